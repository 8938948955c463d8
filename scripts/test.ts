/*
 * `npm test`: builds when needed, runs the API suite twice against real databases (the machine's
 * PostgreSQL and the embedded PGlite), then the browser suite in Debian's Chromium. Ends with one
 * "N passed, N failed" line over all of it, after a count of the skipped tests by where and why. The
 * machine's prerequisites are checked first (./test-prerequisites.ts).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { ADMIN_PG_URL } from "../e2e/support/server";
import { ensureBuild } from "./build";
import { checkTestPrerequisites } from "./test-prerequisites";

const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };

function run(cmd: string, args: string[], extra: Record<string, string> = {}) {
  return spawnSync(cmd, args, { stdio: "inherit", env: { ...env, ...extra } }).status ?? 1;
}

const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const databases = (process.env.HANGAR_TEST_DBS ?? "postgres,pglite").split(",");
const withBrowser = process.env.HANGAR_TEST_UI !== "0" && only.length === 0;

await checkTestPrerequisites({
  browser: withBrowser,
  postgresUrl: databases.includes("postgres") ? ADMIN_PG_URL : null,
});
ensureBuild(process.env.HANGAR_TEST_BUILD === "1");

let passed = 0;
let failed = 0;
let skipped = 0;
let exit = 0;
/** Skipped tests by where and why (the describe that skips them names its reason), with a count. */
const skips = new Map<string, number>();
const countSkip = (key: string) => skips.set(key, (skips.get(key) ?? 0) + 1);

type VitestReport = {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: {
    name: string;
    assertionResults: { status: string; title: string; ancestorTitles: string[] }[];
  }[];
};

type PlaywrightSuite = {
  title: string;
  specs?: {
    title: string;
    tests: { status: string; annotations: { type: string; description?: string }[] }[];
  }[];
  suites?: PlaywrightSuite[];
};

function countPlaywrightSkips(suite: PlaywrightSuite, file: string) {
  for (const spec of suite.specs ?? []) {
    for (const test of spec.tests) {
      if (test.status !== "skipped") continue;
      const why = test.annotations.find((a) => a.type === "skip")?.description;
      countSkip(`[browser] ${file} › ${spec.title}${why ? ` (${why})` : ""}`);
    }
  }
  for (const child of suite.suites ?? []) countPlaywrightSkips(child, file || child.title);
}

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
    const result = JSON.parse(fs.readFileSync(report, "utf8")) as VitestReport;
    for (const file of result.testResults) {
      for (const test of file.assertionResults) {
        if (test.status === "passed" || test.status === "failed") continue;
        countSkip(
          `[${db}] ${path.relative(process.cwd(), file.name)} › ${test.ancestorTitles[0] ?? test.title}`,
        );
      }
    }
    passed += result.numPassedTests;
    failed += result.numFailedTests;
    skipped += result.numPendingTests + result.numTodoTests;
    console.log(`[${db}] ${result.numPassedTests} passed, ${result.numFailedTests} failed`);
  } catch {
    console.log(`[${db}] no test report: the run failed before tests ran`);
    exit = 1;
  }
}

if (withBrowser) {
  console.log("\n=== Browser suite (Playwright, Chromium) ===\n");
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-pw-"));
  console.log(`Screenshots, traces and the report go to ${runDir}`);
  const status = run("npx", ["playwright", "test"], { HANGAR_PW_DIR: runDir });
  if (status !== 0) exit = 1;
  try {
    const report = JSON.parse(fs.readFileSync(path.join(runDir, "playwright-report.json"), "utf8")) as {
      stats: { expected: number; unexpected: number; flaky: number; skipped: number };
      suites: PlaywrightSuite[];
    };
    for (const suite of report.suites) countPlaywrightSkips(suite, suite.title);
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
if (skips.size > 0) {
  console.log("\nSkipped, by where and why:");
  for (const [where, count] of skips) console.log(`${String(count).padStart(4)} × ${where}`);
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(exit);
