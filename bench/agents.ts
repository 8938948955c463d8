/*
 * Agent API benchmark: POST /agents and GET /agents/{id} throughput and latency, against PostgreSQL
 * and the embedded PGlite, next to a raw insert loop of the same row as the "ceiling".
 *
 *   npx tsx bench/agents.ts          (or npm run bench:agents)
 *
 * Env: BENCH_SECONDS (10), BENCH_CONCURRENCY (32), BENCH_WARMUP_SECONDS (2),
 *      BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test; a fresh database is created beside it),
 *      BENCH_ONLY (postgres | pglite, to run one half).
 * Progress goes to stderr; one JSON object goes to stdout and to bench/results/agents-<timestamp>.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";

import { newId } from "../lib/ids";
import { freePort } from "../lib/net";
import { envNumber, progress, registerCleanup, ROOT, sleep } from "./lib/hangar";
import { runHttpLoad, runLoop, summarize, type LoopResult, type Stats } from "./lib/load";

const MIGRATION = path.join(ROOT, "db", "migrations", "0000_create_agents_and_skills.sql");

const SECONDS = envNumber("BENCH_SECONDS", 10);
const CONCURRENCY = Math.floor(envNumber("BENCH_CONCURRENCY", 32));
const WARMUP_SECONDS = envNumber("BENCH_WARMUP_SECONDS", 2);
const PG_URL = process.env.BENCH_PG_URL?.trim() || "postgres://postgres@127.0.0.1:5432/test";
const ONLY = process.env.BENCH_ONLY?.trim() || "";
const MASTER_KEY = `bench_${randomBytes(16).toString("hex")}`;
const TARGETS = { create_vs_raw_min: 0.4, get_p99_ms_max: 10 };

const AGENT_BODY = {
  name: "bench",
  model: "anthropic/claude-sonnet-4-6",
  prompt: "You are a bench agent.",
  harness_id: "opencode",
  env_vars: { GITHUB_TOKEN: "ghp_bench" },
};

/** What SecretBox would store for "ghp_bench": prefix + base64(iv 12 + tag 16 + 9 bytes). */
function fakeCiphertext(): string {
  return (
    "enc:v1:" + randomBytes(12 + 16 + Buffer.byteLength(AGENT_BODY.env_vars.GITHUB_TOKEN)).toString("base64")
  );
}

/** Runs `fn`, with `cleanup` registered for signals meanwhile and always run afterwards. */
async function withCleanup<T>(cleanup: () => Promise<void>, fn: () => Promise<T>): Promise<T> {
  const once = registerCleanup(cleanup);
  try {
    return await fn();
  } finally {
    await once();
  }
}

// ---- Hangar server process ---------------------------------------------------------------------

type Server = { origin: string; logFile: string; stop: () => Promise<void> };

function logTail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function waitExit(proc: ChildProcess, ms: number): Promise<boolean> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      proc.off("exit", onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    proc.once("exit", onExit);
  });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid: number) {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Starts `tsx server.ts` in its own process group (so tsx's node child can be killed with it). */
async function startServer(opts: {
  dataDir: string;
  logFile: string;
  databaseUrl?: string;
}): Promise<Server> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (
      key === "DATABASE_URL" ||
      key === "MASTER_KEY" ||
      key === "PORT" ||
      key === "HOST" ||
      (key.startsWith("HANGAR_") && key !== "HANGAR_DB_POOL_SIZE")
    ) {
      delete env[key];
    }
  }
  Object.assign(env, {
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    HOST: "127.0.0.1",
    HANGAR_DATA_DIR: opts.dataDir,
    MASTER_KEY,
    LOG_LEVEL: "warn",
  });
  if (opts.databaseUrl) env.DATABASE_URL = opts.databaseUrl;

  const fd = fs.openSync(opts.logFile, "a");
  let proc: ChildProcess;
  try {
    proc = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), ["server.ts"], {
      cwd: ROOT,
      env,
      stdio: ["ignore", fd, fd],
      detached: true,
    });
  } finally {
    fs.closeSync(fd);
  }
  const pid = proc.pid;
  if (pid === undefined) throw new Error("could not spawn the Hangar server");

  const stop = registerCleanup(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      if (!(await waitExit(proc, 10_000))) {
        progress(`server ${pid} did not exit within 10 s of SIGTERM: killing it`);
        killGroup(pid);
        await waitExit(proc, 5_000);
      }
    }
    // Anything tsx left behind in the group.
    if (groupAlive(pid)) {
      await sleep(500);
      if (groupAlive(pid)) killGroup(pid);
    }
  });

  try {
    const started = Date.now();
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `Hangar exited during start-up (${proc.exitCode ?? proc.signalCode}):\n${logTail(opts.logFile)}`,
        );
      }
      try {
        const res = await fetch(`${origin}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() - started > 180_000)
        throw new Error(`Hangar did not become healthy in 180 s:\n${logTail(opts.logFile)}`);
      await sleep(200);
    }
    progress(
      `Hangar ready at ${origin} in ${((Date.now() - started) / 1000).toFixed(1)} s (log: ${opts.logFile})`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { origin, logFile: opts.logFile, stop };
}

// ---- the HTTP phases ---------------------------------------------------------------------------

const AUTH = { authorization: `Bearer ${MASTER_KEY}` };
const CREATE_BODY = JSON.stringify(AGENT_BODY);
const AGENTS_PATH = "/api/v1/managed_agents/agents";

function reportErrors(label: string, result: LoopResult) {
  const share = result.elapsedMs > 0 ? Math.round((100 * result.clientCpuMs) / result.elapsedMs) : 0;
  progress(`${label}: load generator used ${share}% of one core`);
  if (result.errors > 0)
    progress(`${label}: ${result.errors} errors, e.g. ${result.errorSamples.join(" | ")}`);
}

function createLoad(origin: string, durationMs: number, ids: string[]) {
  return runHttpLoad(origin, {
    concurrency: CONCURRENCY,
    durationMs,
    makeRequest: () => ({
      method: "POST",
      path: AGENTS_PATH,
      headers: { ...AUTH, "content-type": "application/json" },
      body: CREATE_BODY,
    }),
    onSuccess: (body) => {
      const id = (JSON.parse(body.toString("utf8")) as { id?: unknown }).id;
      if (typeof id === "string") ids.push(id);
    },
  });
}

function getLoad(origin: string, durationMs: number, ids: string[]) {
  if (ids.length === 0) throw new Error("no agent ids to GET");
  let next = 0;
  return runHttpLoad(origin, {
    concurrency: CONCURRENCY,
    durationMs,
    makeRequest: () => ({ method: "GET", path: `${AGENTS_PATH}/${ids[next++ % ids.length]}`, headers: AUTH }),
  });
}

/** Warm-up (half POST, half GET), then the timed POST and GET runs. */
async function httpPhases(server: Server): Promise<{ create: Stats; get: Stats }> {
  const ids: string[] = [];
  const warmMs = (WARMUP_SECONDS * 1000) / 2;
  progress(`warm-up ${WARMUP_SECONDS} s`);
  reportErrors("warm-up POST", await createLoad(server.origin, warmMs, ids));
  reportErrors("warm-up GET", await getLoad(server.origin, warmMs, ids));

  progress(`POST /agents: ${CONCURRENCY} clients for ${SECONDS} s`);
  const created: string[] = [];
  const createResult = await createLoad(server.origin, SECONDS * 1000, created);
  reportErrors("POST", createResult);
  const create = summarize(createResult);
  progress(`POST: ${JSON.stringify(create)}`);

  progress(`GET /agents/{id}: ${CONCURRENCY} clients for ${SECONDS} s over ${created.length} ids`);
  const getResult = await getLoad(server.origin, SECONDS * 1000, created.length ? created : ids);
  reportErrors("GET", getResult);
  const get = summarize(getResult);
  progress(`GET: ${JSON.stringify(get)}`);
  return { create, get };
}

// ---- raw insert ceilings -----------------------------------------------------------------------

type RawStats = { rps: number; p50_ms: number; p99_ms: number; count: number };

function rawStats(label: string, result: LoopResult): RawStats {
  reportErrors(label, result);
  const s = summarize(result);
  progress(`${label}: ${JSON.stringify(s)}`);
  return { rps: s.rps, p50_ms: s.p50_ms, p99_ms: s.p99_ms, count: s.count - s.errors };
}

const INSERT_SQL = `insert into agents (id, name, model, prompt, harness_id, requirements, repo_url, branch,
  pfp_url, mcp_servers, allow_out, deny_out, env_vars) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
  returning *`;

/** The values createAgent writes for AGENT_BODY (jsonb columns as JSON text, as drizzle sends them). */
function rowValues(): (string | null)[] {
  return [
    newId("agent"),
    AGENT_BODY.name,
    AGENT_BODY.model,
    AGENT_BODY.prompt,
    AGENT_BODY.harness_id,
    null,
    null,
    "main",
    null,
    "[]",
    "[]",
    "[]",
    JSON.stringify({ GITHUB_TOKEN: fakeCiphertext() }),
  ];
}

/** postgres.js insert loop, pool of CONCURRENCY connections; jsonb parameters pass through as text. */
async function rawInsertPostgres(url: string): Promise<RawStats> {
  const sql = postgres(url, {
    max: CONCURRENCY,
    onnotice: () => {},
    // Send JSON text unchanged (postgres.js would JSON.stringify it again), as drizzle does.
    types: {
      jsonText: { to: 3802, from: [3802], serialize: (x: unknown) => String(x), parse: (x: string) => x },
    },
  });
  return withCleanup(
    () => sql.end({ timeout: 5 }),
    async () => {
      const insert = async () => {
        const rows = await sql.unsafe(INSERT_SQL, rowValues(), { prepare: true });
        return rows.length === 1;
      };
      progress(`raw insert (postgres.js, pool ${CONCURRENCY}): warm-up ${WARMUP_SECONDS} s`);
      await runLoop({ concurrency: CONCURRENCY, durationMs: WARMUP_SECONDS * 1000, task: insert });
      const [check] =
        await sql`select env_vars->>'GITHUB_TOKEN' as token, jsonb_typeof(mcp_servers) as t from agents
        where env_vars ? 'GITHUB_TOKEN' order by created_at desc limit 1`;
      if (!check || !String(check.token).startsWith("enc:v1:") || check.t !== "array") {
        throw new Error(`raw insert wrote unexpected jsonb: ${JSON.stringify(check)}`);
      }
      progress(`raw insert (postgres.js): ${CONCURRENCY} workers for ${SECONDS} s`);
      return rawStats(
        "raw insert postgres",
        await runLoop({ concurrency: CONCURRENCY, durationMs: SECONDS * 1000, task: insert }),
      );
    },
  );
}

function migrationStatements(): string[] {
  return fs
    .readFileSync(MIGRATION, "utf8")
    .split("--> statement-breakpoint")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** In-process PGlite (file-backed, like Hangar's), same insert, CONCURRENCY callers queueing on it. */
async function rawInsertPglite(dir: string): Promise<RawStats> {
  fs.mkdirSync(path.join(dir, "pglite"), { recursive: true });
  const db = await PGlite.create(path.join(dir, "pglite"));
  return withCleanup(
    () => db.close(),
    async () => {
      for (const stmt of migrationStatements()) await db.exec(stmt);
      const insert = async () => (await db.query(INSERT_SQL, rowValues())).rows.length === 1;
      progress(`raw insert (PGlite in-process): warm-up ${WARMUP_SECONDS} s`);
      await runLoop({ concurrency: CONCURRENCY, durationMs: WARMUP_SECONDS * 1000, task: insert });
      progress(`raw insert (PGlite in-process): ${CONCURRENCY} workers for ${SECONDS} s`);
      return rawStats(
        "raw insert pglite",
        await runLoop({ concurrency: CONCURRENCY, durationMs: SECONDS * 1000, task: insert }),
      );
    },
  );
}

// ---- the two halves ----------------------------------------------------------------------------

type Section = { create: Stats; get: Stats; raw_insert: RawStats | null; create_vs_raw: number | null };

const ratio = (create: Stats, raw: RawStats | null) =>
  raw && raw.rps > 0 ? Math.round((create.rps / raw.rps) * 1000) / 1000 : null;

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

async function benchPostgres(work: string): Promise<Section> {
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  const name = `hangar_bench_${randomBytes(6).toString("hex")}`;
  return withCleanup(
    async () => {
      try {
        progress(`dropping database ${name}`);
        await admin`drop database if exists ${admin(name)} with (force)`;
      } catch (err) {
        progress(`could not drop database ${name}: ${(err as Error).message}`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
    async () => {
      await admin`create database ${admin(name)}`;
      const url = databaseUrl(PG_URL, name);
      progress(`PostgreSQL: created database ${name}`);
      const server = await startServer({
        dataDir: path.join(work, "pg-data"),
        logFile: path.join(work, "server-postgres.log"),
        databaseUrl: url,
      });
      const { create, get } = await withCleanup(server.stop, () => httpPhases(server));
      const raw = await rawInsertPostgres(url);
      return { create, get, raw_insert: raw, create_vs_raw: ratio(create, raw) };
    },
  );
}

async function benchPglite(work: string): Promise<Section> {
  progress("PGlite: starting Hangar on a fresh data dir");
  const server = await startServer({
    dataDir: path.join(work, "pglite-data"),
    logFile: path.join(work, "server-pglite.log"),
  });
  const { create, get } = await withCleanup(server.stop, () => httpPhases(server));
  let raw: RawStats | null = null;
  try {
    raw = await rawInsertPglite(path.join(work, "pglite-raw"));
  } catch (err) {
    progress(`PGlite raw insert failed, reporting null: ${(err as Error).message}`);
  }
  return { create, get, raw_insert: raw, create_vs_raw: ratio(create, raw) };
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) {
    throw new Error("no Next build: run `NEXT_TELEMETRY_DISABLED=1 npx next build` first");
  }
  const loadAvg = Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
  const work = tempDir("hangar-bench-");
  progress(`concurrency ${CONCURRENCY}, ${SECONDS} s per run, work dir ${work}`);
  let pg: Section | null = null;
  let lite: Section | null = null;
  let ok = false;
  try {
    if (ONLY !== "pglite") pg = await benchPostgres(work);
    if (ONLY !== "postgres") lite = await benchPglite(work);
    ok = true;
  } finally {
    // Keep the server logs when something went wrong.
    if (ok) fs.rmSync(work, { recursive: true, force: true });
    else progress(`kept ${work} for its server logs`);
  }

  const p99ok = (s: Section | null) => (s ? s.get.p99_ms <= TARGETS.get_p99_ms_max : null);
  const result = {
    bench: "agents",
    machine: {
      cpus: os.cpus().length,
      node: process.version,
      cpu_model: os.cpus()[0]?.model ?? null,
      loadavg_1m_at_start: loadAvg,
    },
    concurrency: CONCURRENCY,
    seconds: SECONDS,
    postgres: pg,
    pglite: lite,
    targets: TARGETS,
    met: {
      postgres_create_vs_raw: pg
        ? pg.create_vs_raw !== null && pg.create_vs_raw >= TARGETS.create_vs_raw_min
        : null,
      postgres_get_p99: p99ok(pg),
      pglite_get_p99: p99ok(lite),
    },
  };
  const json = JSON.stringify(result);
  const dir = path.join(ROOT, "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `agents-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  progress(`wrote ${path.relative(ROOT, file)}`);
  process.stdout.write(json + "\n");
}

main().catch((err: unknown) => {
  progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
