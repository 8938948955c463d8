import path from "node:path";

import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    // lib/ tests and the Kubernetes stand-in's own tests do not touch the database, and the db/ query
    // tests open both kinds themselves: they run in the first (PostgreSQL) pass only.
    include: [
      "e2e/api/**/*.test.ts",
      // The attacks of SECURITY.md, each from inside a real sandbox or a real client.
      "e2e/security/**/*.test.ts",
      ...(process.env.HANGAR_TEST_DB === "pglite"
        ? []
        : ["lib/**/*.test.ts", "db/**/*.test.ts", "e2e/kube/**/*.test.ts"]),
    ],
    globalSetup: ["e2e/api/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // The files share one server on a 2-core machine; a couple of workers keep it busy enough.
    maxWorkers: 2,
  },
});
