/* `npm start`: builds the app when no build exists (or it is older than the sources), then serves it. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";

const BUILD_ID = ".next/BUILD_ID";

if (!fs.existsSync(BUILD_ID)) {
  process.stdout.write("No build found: building Hangar first (about a minute)...\n");
  const result = spawnSync("npx", ["next", "build"], { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

await import("../server");
