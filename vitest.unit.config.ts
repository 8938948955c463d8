import path from "node:path";

import { defineConfig } from "vitest/config";

// Pure unit tests only: no globalSetup, so no Hangar server or database is started.
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: { include: ["lib/**/*.test.ts"] },
});
