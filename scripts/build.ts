/*
 * The production build `npm start` and `npm test` serve, rebuilt when it is missing or older than
 * what it was built from: the app's sources (tests excluded), its configuration and the lock file.
 * After a `git pull` the next start rebuilds instead of serving yesterday's pages.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const BUILD_ID = ".next/BUILD_ID";
const SOURCE_DIRS = ["app", "components", "lib", "db", "public"];
const SOURCE_FILES = ["next.config.ts", "postcss.config.mjs", "tsconfig.json", "package-lock.json"];
const IS_TEST = /\.(test|spec)\.[a-z]+$/;

/** The newest file the build depends on, or null when there is none. */
function newestSource(): { file: string; mtimeMs: number } | null {
  let newest: { file: string; mtimeMs: number } | null = null;
  const consider = (file: string) => {
    const { mtimeMs } = fs.statSync(file);
    if (!newest || mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
  };
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && !IS_TEST.test(entry.name)) consider(full);
    }
  };
  for (const dir of SOURCE_DIRS) if (fs.existsSync(dir)) walk(dir);
  for (const file of SOURCE_FILES) if (fs.existsSync(file)) consider(file);
  return newest;
}

/** Why the build must be made again, or null when it is current. */
export function staleBuildReason(): string | null {
  if (!fs.existsSync(BUILD_ID)) return "No build found";
  const built = fs.statSync(BUILD_ID).mtimeMs;
  const newest = newestSource();
  return newest && newest.mtimeMs > built ? `The build is older than ${newest.file}` : null;
}

/** Builds when the build is missing, stale, or `force` is set; exits the process if the build fails. */
export function ensureBuild(force = false): void {
  const reason = force ? "A build was asked for" : staleBuildReason();
  if (!reason) return;
  process.stdout.write(`${reason}: building Hangar first (about a minute)...\n`);
  const result = spawnSync("npx", ["next", "build"], { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
