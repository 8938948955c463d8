import path from "node:path";

import { defineConfig } from "vitest/config";

// The tests under lib/ without a Hangar server or database (no globalSetup). Some still run real
// harness binaries and sandboxes, so this is not instant.
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: { include: ["lib/**/*.test.ts"] },
});
