/*
 * Shared by the session benchmarks (message, events): a Hangar server on PGlite or a throw-away
 * PostgreSQL database, optionally with the timing probe (probe.mjs) loaded into it, an API client,
 * ready sessions, cleanup that also runs on failure and Ctrl-C, statistics and the result file.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { createTestDatabase, startServer, type TestServer } from "../../e2e/support/server";
import { LocalDriver } from "../../lib/sandbox/drivers/local";
import { createHttpClient, percentile, type HttpClient } from "./load";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SESSIONS = "/api/v1/managed_agents/sessions";
const AGENTS = "/api/v1/managed_agents/agents";
const PROBE = path.join(ROOT, "bench", "lib", "probe.mjs");

export function progress(msg: string) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not ${raw}`);
  return n;
}

export function envDb(): "pglite" | "postgres" {
  const db = process.env.BENCH_DB?.trim() || "pglite";
  if (db !== "pglite" && db !== "postgres") throw new Error(`BENCH_DB must be pglite or postgres, not ${db}`);
  return db;
}

/** Wall clock with sub-millisecond resolution, on the same scale as Date.now(). */
export function wallClock(): () => number {
  const offset = Date.now() - (performance.timeOrigin + performance.now());
  return () => performance.timeOrigin + performance.now() + offset;
}

// ---- statistics ---------------------------------------------------------------------------------

export const round2 = (x: number) => Math.round(x * 100) / 100;

export type Summary = { count: number; p50_ms: number; p99_ms: number; mean_ms: number; max_ms: number };

/** Nearest-rank percentiles (as bench/lib/load.ts), in ms rounded to 0.01. */
export function summarize(values: number[]): Summary {
  const sorted = Float64Array.from(values).sort();
  const arr = Array.from(sorted);
  const sum = arr.reduce((a, b) => a + b, 0);
  return {
    count: arr.length,
    p50_ms: round2(percentile(arr, 50)),
    p99_ms: round2(percentile(arr, 99)),
    mean_ms: round2(arr.length ? sum / arr.length : 0),
    max_ms: round2(arr.at(-1) ?? 0),
  };
}

export function writeResult(name: string, result: unknown) {
  const json = JSON.stringify(result);
  const dir = path.join(ROOT, "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  progress(`wrote ${path.relative(ROOT, file)}`);
  console.log(json);
}

export function machine() {
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? null,
    node: process.version,
    loadavg_1m_at_start: round2(os.loadavg()[0] ?? 0),
  };
}

// ---- cleanup: finally blocks do not run when a signal ends the process --------------------------

const cleanups: (() => Promise<void>)[] = [];
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    progress(`${signal}: cleaning up`);
    void (async () => {
      for (const fn of [...cleanups].reverse()) await fn().catch(() => {});
      process.exit(130);
    })();
  });
}

/** Registers `cleanup` (run newest first on a signal); the returned function runs it at most once. */
export function registerCleanup(cleanup: () => Promise<void>): () => Promise<void> {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    const i = cleanups.indexOf(once);
    if (i >= 0) cleanups.splice(i, 1);
    await cleanup();
  };
  cleanups.push(once);
  return once;
}

// ---- Hangar ------------------------------------------------------------------------------------

export type Probe = {
  tx: number[];
  queries: number[];
  /** Queries outside transactions by "<verb> <table>". */
  by_sql: Record<string, { count: number; total_ms: number }>;
  sse_write_ms: number[];
  write_to_flush_ms: number[];
  /** Per frame: from the last SSE write before its flush to the flush (what ran after the writes). */
  last_write_to_flush_ms: number[];
  /** Transactions begun while SSE frames were written but not yet flushed. */
  tx_while_flush_pending: number;
  at_to_write_ms: number[];
  commit_to_write_ms: number[];
  append_tx_ms: number[];
  first_frame: { arrival_to_head_ms: number | null; head_to_first_ms: number }[];
  started: number;
  ended: number;
  /** Event loop utilization and delay (monitorEventLoopDelay, 1 ms resolution) over the window. */
  event_loop: { utilization: number; delay_p50_ms: number; delay_p99_ms: number; delay_max_ms: number };
};

export type Hangar = {
  server: TestServer;
  db: "pglite" | "postgres";
  http: HttpClient;
  api: <T = unknown>(method: string, p: string, body?: unknown) => Promise<T>;
  auth: Record<string, string>;
  /** Everything the probe recorded since the previous call (null without the probe). */
  probe: () => Promise<Probe | null>;
  /** Sessions created through `readySession`, stopped by `stop`. */
  sessions: string[];
  stop: () => Promise<void>;
};

/**
 * Starts Hangar (fresh data dir; PGlite, or a throw-away PostgreSQL database dropped on stop) with
 * no LITELLM_API_BASE, so sessions talk to the built-in test model. `stop` deletes the sessions
 * created here (stopping their sandboxes, also directly through the driver if Hangar cannot), stops
 * the server, drops the database and removes the data dir; it is registered for signals.
 */
export async function startHangar(opts: {
  db: "pglite" | "postgres";
  probe: boolean;
  /** More NODE_OPTIONS for the server, and more of its environment. */
  nodeOptions?: string[];
  env?: Record<string, string>;
}): Promise<Hangar> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-bench-"));
  const probeFile = path.join(dataDir, "probe.json");
  const env: Record<string, string> = { LOG_LEVEL: "warn", ...opts.env };
  const nodeOptions: string[] = [...(opts.nodeOptions ?? [])];
  if (opts.probe) {
    nodeOptions.push(`--import ${PROBE}`);
    env.BENCH_PROBE_OUT = probeFile;
  }
  if (nodeOptions.length > 0) env.NODE_OPTIONS = nodeOptions.join(" ");
  // With the probe: a V8 CPU profile of the server per probe window, into this folder (for digging).
  const cpuProfDir = process.env.BENCH_CPU_PROF_DIR?.trim();
  if (opts.probe && cpuProfDir) env.BENCH_PROBE_CPU_DIR = path.resolve(cpuProfDir);
  const sessions: string[] = [];
  let server: TestServer | null = null;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | null = null;
  let http: HttpClient | null = null;

  const stop = registerCleanup(async () => {
    http?.close();
    if (server && sessions.length > 0) {
      const s = server;
      for (const id of sessions) {
        try {
          const res = await fetch(`${s.url}${SESSIONS}/${id}`, {
            method: "DELETE",
            headers: { authorization: `Bearer ${s.masterKey}` },
            signal: AbortSignal.timeout(20_000),
          });
          await res.arrayBuffer();
        } catch (err) {
          progress(`DELETE session ${id} failed (${(err as Error).message})`);
        }
      }
    }
    if (server) {
      const code = await server.stop();
      progress(`Hangar stopped (exit ${code})`);
    }
    // Whatever is still running in the sandboxes (a failed DELETE, a server that died) stops here.
    const driver = new LocalDriver({ root: path.join(dataDir, "sessions") });
    for (const handle of await driver.list().catch(() => [])) {
      if (handle.state !== "running") continue;
      progress(`stopping leftover sandbox ${handle.sessionId}`);
      await driver.stop(handle.sessionId).catch(() => undefined);
    }
    if (database) {
      try {
        await database.drop();
        progress("dropped the bench database");
      } catch (err) {
        progress(`could not drop the bench database: ${(err as Error).message}`);
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
  });

  try {
    if (opts.db === "postgres") {
      database = await createTestDatabase();
      progress(`PostgreSQL: created ${new URL(database.url).pathname.slice(1)}`);
    }
    const started = Date.now();
    server = await startServer({ dataDir, databaseUrl: database?.url, env, timeoutMs: 120_000 });
    progress(`Hangar (${opts.db}) ready at ${server.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (opts.probe && !fs.existsSync(probeFile)) throw new Error("the bench probe did not load in Hangar");
  } catch (err) {
    await stop();
    throw err;
  }
  const s = server;
  http = createHttpClient(s.url, 8);
  const client = http;
  const auth = { authorization: `Bearer ${s.masterKey}` };

  const api = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await client.request(
      {
        method,
        path: p,
        headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      { keepBody: true, timeoutMs: 120_000 },
    );
    const text = res.body?.toString("utf8") ?? "";
    if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };

  const probe = async (): Promise<Probe | null> => {
    if (!opts.probe) return null;
    fs.rmSync(probeFile, { force: true });
    process.kill(s.proc.pid!, "SIGUSR2");
    for (let i = 0; i < 500; i++) {
      if (fs.existsSync(probeFile)) return JSON.parse(fs.readFileSync(probeFile, "utf8")) as Probe;
      await sleep(10);
    }
    throw new Error("the bench probe did not answer");
  };

  return { server: s, db: opts.db, http: client, api, auth, probe, sessions, stop };
}

type Session = { id: string; status: string; failure_reason?: string | null };

/** Creates an agent and a session for `harness` and waits until it is ready. */
export async function readySession(
  hangar: Hangar,
  harness: string,
  model = "hangar-test-model",
): Promise<{ agentId: string; sessionId: string; model: string }> {
  const agent = await hangar.api<{ id: string }>("POST", AGENTS, {
    name: `bench-${harness}-${Date.now().toString(36)}`,
    model,
    harness_id: harness,
  });
  const created = await hangar.api<Session>("POST", `${AGENTS}/${agent.id}/session`, {});
  hangar.sessions.push(created.id);
  const deadline = Date.now() + 120_000;
  let s = created;
  while (s.status === "creating") {
    if (Date.now() > deadline) throw new Error(`session ${created.id} not ready in 120 s`);
    await sleep(50);
    s = await hangar.api<Session>("GET", `${SESSIONS}/${created.id}`);
  }
  if (s.status !== "ready") throw new Error(`${harness} session failed: ${s.failure_reason ?? s.status}`);
  return { agentId: agent.id, sessionId: created.id, model };
}
