/*
 * What `npm test` needs from the machine, checked before anything is built or run, so a missing part
 * is one sentence with its fix instead of ten minutes of tests failing for a reason they cannot name.
 * - Debian packages (scripts/system-packages.sh, the list .ci/run installs): installed here when
 *   running as root, named with the apt-get line otherwise.
 * - PostgreSQL at HANGAR_TEST_PG_URL, when the PostgreSQL suite is to run.
 */
import { spawnSync } from "node:child_process";

import postgres from "postgres";

const BROWSER_ONLY = new Set(["chromium", "fonts-dejavu-core"]);

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function missingPackages(): string[] {
  const out = spawnSync("bash", ["scripts/system-packages.sh"], { encoding: "utf8" });
  if (out.status !== 0) fail(`Could not check the system packages: ${out.stderr.trim()}`);
  return out.stdout.split(/\s+/).filter(Boolean);
}

function checkPackages(withBrowser: boolean): void {
  const missing = missingPackages().filter((pkg) => withBrowser || !BROWSER_ONLY.has(pkg));
  if (missing.length === 0) return;
  if (process.getuid?.() === 0) {
    process.stdout.write(`Installing the system packages the tests need: ${missing.join(" ")}\n`);
    const install = spawnSync("bash", ["scripts/system-packages.sh", "--install"], { stdio: "inherit" });
    if (install.status === 0) return;
    fail(`Installing ${missing.join(" ")} failed (see apt-get's output above).`);
  }
  const browserOnly = missing.every((pkg) => BROWSER_ONLY.has(pkg));
  fail(
    `The tests need these Debian packages: ${missing.join(" ")}. ` +
      `Install them with: sudo apt-get install -y ${missing.join(" ")}` +
      (browserOnly ? " (or skip the browser suite with HANGAR_TEST_UI=0)." : "."),
  );
}

/** The URL without its password, for messages. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}

async function checkPostgres(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => undefined });
  try {
    await sql`select 1`;
  } catch (err) {
    const reason = (err as { code?: string }).code ?? (err as Error).message;
    fail(
      `PostgreSQL is not reachable at ${shown(url)} (${reason}): start it, set HANGAR_TEST_PG_URL to ` +
        "a server the tests may create databases on, or run only the embedded database with HANGAR_TEST_DBS=pglite.",
    );
  } finally {
    await sql.end({ timeout: 1 }).catch(() => undefined);
  }
}

export async function checkTestPrerequisites(options: { browser: boolean; postgresUrl: string | null }) {
  checkPackages(options.browser);
  if (options.postgresUrl) await checkPostgres(options.postgresUrl);
}
