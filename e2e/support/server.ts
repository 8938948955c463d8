/*
 * Starts a real Hangar server process for tests: its own port, data folder and (optionally) its own
 * PostgreSQL database, logging to a file the tests can read.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import postgres from "postgres";

import { freePort } from "@/lib/net";

export { freePort } from "@/lib/net";

export const ADMIN_PG_URL = process.env.HANGAR_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export type DbChoice = "postgres" | "pglite";

export type TestServer = {
  url: string;
  masterKey: string;
  dataDir: string;
  logFile: string;
  databaseUrl: string | undefined;
  proc: ChildProcess;
  /** Stops the process with a signal and waits for it to exit. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
};

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `hangar-${prefix}-`));
}

/** Creates an empty PostgreSQL database next to the admin one and returns its URL. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `hangar_test_${randomBytes(5).toString("hex")}`;
  const admin = postgres(ADMIN_PG_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = postgres(ADMIN_PG_URL, { max: 1, onnotice: () => {} });
      await again.unsafe(`drop database if exists ${name} with (force)`);
      await again.end();
    },
  };
}

export function waitForExit(proc: ChildProcess, ms = 15_000): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/**
 * Sandboxes outlive their server by design (a restarted server adopts them). A test server that is
 * done leaves none behind, also when a test failed before stopping its sessions.
 */
export async function stopSandboxes(dataDir: string) {
  const root = path.join(dataDir, "sessions");
  if (!fs.existsSync(root)) return;
  const { LocalDriver } = await import("@/lib/sandbox/drivers/local");
  const driver = new LocalDriver({ root });
  for (const sandbox of await driver.list()) {
    if (sandbox.state === "running")
      await driver.stop(sandbox.sessionId, { graceMs: 200 }).catch(() => undefined);
  }
}

type StartOptions = {
  dataDir?: string;
  databaseUrl?: string;
  masterKey?: string | null;
  env?: Record<string, string>;
  port?: number;
  timeoutMs?: number;
};

/** Spawns server.ts and waits until `isReady` says yes (or the process exits, or time runs out). */
async function spawnHangar(
  opts: StartOptions,
  port: number,
  isReady: (logFile: string) => Promise<boolean>,
): Promise<{ dataDir: string; masterKey: string; logFile: string; proc: ChildProcess }> {
  const dataDir = opts.dataDir ?? tempDir("data");
  const masterKey =
    opts.masterKey === null ? "" : (opts.masterKey ?? "hk_test_" + randomBytes(16).toString("hex"));
  const logFile = path.join(dataDir, `server-${port}-${Date.now()}.log`);
  const log = fs.openSync(logFile, "a");
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: "production",
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    HOST: "127.0.0.1",
    HANGAR_DATA_DIR: dataDir,
    ...(masterKey ? { MASTER_KEY: masterKey } : {}),
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    // No warm pool unless a test asks for one: each test's sessions boot as the test expects (cold),
    // and dozens of test servers do not each keep sandboxes booted.
    ...Object.fromEntries(
      ["OPENCODE", "CLAUDE_AGENT_SDK", "CLAUDE_CODE", "CODEX"].map((h) => [`HANGAR_POOL_${h}`, "0"]),
    ),
    ...opts.env,
  };
  const proc = spawn(process.execPath, ["--import", "tsx", "server.ts"], {
    cwd: process.cwd(),
    env,
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(
        `Hangar exited with ${proc.exitCode} during start:\n${fs.readFileSync(logFile, "utf8")}`,
      );
    }
    if (await isReady(logFile)) break;
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`Hangar did not become healthy in time:\n${fs.readFileSync(logFile, "utf8")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { dataDir, masterKey, logFile, proc };
}

export async function startServer(opts: StartOptions): Promise<TestServer> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const { dataDir, masterKey, logFile, proc } = await spawnHangar(opts, port, async () => {
    try {
      return (await fetch(`${url}/api/v1/health`)).ok;
    } catch {
      return false; // not listening yet
    }
  });
  const key = masterKey || fs.readFileSync(path.join(dataDir, "master.key"), "utf8").trim();
  return {
    url,
    masterKey: key,
    dataDir,
    logFile,
    databaseUrl: opts.databaseUrl,
    proc,
    stop: async (signal = "SIGTERM") => {
      proc.kill(signal);
      const code = await waitForExit(proc);
      await stopSandboxes(dataDir);
      return code;
    },
  };
}

export type TestGateway = {
  egressPort: number;
  modelPort: number;
  logFile: string;
  proc: ChildProcess;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
};

/**
 * Starts a Hangar process in the gateway role (HANGAR_ROLE=gateway): only the shared egress proxy and
 * model endpoint, on free loopback ports. It is ready when it logs where it listens.
 */
export async function startGateway(opts: StartOptions): Promise<TestGateway> {
  const egressPort = await freePort();
  const modelPort = await freePort();
  const env = {
    HANGAR_ROLE: "gateway",
    HANGAR_GATEWAY_EGRESS_LISTEN: String(egressPort),
    HANGAR_GATEWAY_MODEL_LISTEN: String(modelPort),
    ...opts.env,
  };
  const { logFile, proc } = await spawnHangar({ ...opts, env }, egressPort, async (file) =>
    fs.readFileSync(file, "utf8").includes('"msg":"gateway listening"'),
  );
  return {
    egressPort,
    modelPort,
    logFile,
    proc,
    stop: async (signal = "SIGTERM") => {
      proc.kill(signal);
      return waitForExit(proc);
    },
  };
}
