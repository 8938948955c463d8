/*
 * `npm test`: builds when needed, runs the API suite twice against real databases (the machine's
 * PostgreSQL and the embedded PGlite), then the browser suite in Debian's Chromium. Ends with one
 * "N passed, N failed" line over all of it.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };

function run(cmd: string, args: string[], extra: Record<string, string> = {}) {
  return spawnSync(cmd, args, { stdio: "inherit", env: { ...env, ...extra } }).status ?? 1;
}

if (!fs.existsSync(".next/BUILD_ID") || process.env.HANGAR_TEST_BUILD === "1") {
  console.log("Building Hangar for the tests...");
  if (run("npx", ["next", "build"]) !== 0) process.exit(1);
}

const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const databases = (process.env.HANGAR_TEST_DBS ?? "postgres,pglite").split(",");
let passed = 0;
let failed = 0;
let skipped = 0;
let exit = 0;

for (const db of databases) {
  console.log(`\n=== Test suite against ${db} ===\n`);
  const report = path.join(os.tmpdir(), `hangar-vitest-${db}-${process.pid}.json`);
  const status = run(
    "npx",
    ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...only],
    { HANGAR_TEST_DB: db },
  );
  if (status !== 0) exit = 1;
  try {
    const result = JSON.parse(fs.readFileSync(report, "utf8")) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTodoTests: number;
    };
    passed += result.numPassedTests;
    failed += result.numFailedTests;
    skipped += result.numPendingTests + result.numTodoTests;
    console.log(`[${db}] ${result.numPassedTests} passed, ${result.numFailedTests} failed`);
  } catch {
    console.log(`[${db}] no test report: the run failed before tests ran`);
    exit = 1;
  }
}

if (process.env.HANGAR_TEST_UI !== "0" && only.length === 0) {
  console.log("\n=== Browser suite (Playwright, Chromium) ===\n");
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-pw-"));
  const status = run("npx", ["playwright", "test"], { HANGAR_PW_DIR: runDir });
  if (status !== 0) exit = 1;
  try {
    const report = JSON.parse(fs.readFileSync(path.join(runDir, "playwright-report.json"), "utf8")) as {
      stats: { expected: number; unexpected: number; flaky: number; skipped: number };
    };
    passed += report.stats.expected + report.stats.flaky;
    failed += report.stats.unexpected;
    skipped += report.stats.skipped;
    console.log(
      `[browser] ${report.stats.expected + report.stats.flaky} passed, ${report.stats.unexpected} failed`,
    );
  } catch {
    console.log("[browser] no test report: the run failed before tests ran");
    exit = 1;
  }
}

if (passed === 0) exit = 1;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(exit);
