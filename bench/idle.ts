/*
 * Idle cost: what N ready sessions that nobody uses cost the Hangar server process itself (the one
 * running server.ts; never the sandboxes' processes, nor the harnesses'): its CPU as % of one core
 * over a window, read from /proc/<pid>/stat (utime + stime), and its RSS, against the same Hangar
 * with no session. The baseline is taken after a warm-up session was created, made ready and
 * stopped, so the modules a session loads are in both figures and RSS growth per session is
 * (RSS_N − RSS_0) / N. Each window ends with a full garbage collection in the server (bench/lib/gc.mjs,
 * a SIGUSR2 handler loaded with --expose-gc) and the RSS and heap read after it.
 *
 *   npm run bench:idle     BENCH_SESSIONS (40), BENCH_HARNESS (claude-agent-sdk), BENCH_SECONDS (30)
 * Prints one JSON object; also writes bench/results/idle-<timestamp>.json.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  envDb,
  envNumber,
  machine,
  progress,
  ROOT,
  round2,
  sleep,
  startHangar,
  writeResult,
  type Hangar,
} from "./lib/hangar";

const AGENTS = "/api/v1/managed_agents/agents";
const SESSIONS = "/api/v1/managed_agents/sessions";
const TARGETS = { cpu_pct_of_core_max: 2, rss_growth_mib_per_session_max: 5 };

const COUNT = envNumber("BENCH_SESSIONS", 40);
const SECONDS = envNumber("BENCH_SECONDS", 30);
const SETTLE_SECONDS = envNumber("BENCH_SETTLE_SECONDS", 10);
const START_CONCURRENCY = envNumber("BENCH_START_CONCURRENCY", 4);
const HARNESS = process.env.BENCH_HARNESS?.trim() || "claude-agent-sdk";
const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

type Proc = { ticks: number; mainTicks: number; rssKiB: number; wakeups: number };

/** utime + stime of the whole process and of its main thread; RSS; the main thread's context switches. */
function readProc(pid: number): Proc {
  const cpu = (file: string) => {
    const stat = fs.readFileSync(file, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command: state is field 3, utime 14 and stime 15 (man 5 proc).
    return Number(fields[11]) + Number(fields[12]);
  };
  const status = fs.readFileSync(`/proc/${pid}/task/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
  const rss = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return {
    ticks: cpu(`/proc/${pid}/stat`),
    mainTicks: cpu(`/proc/${pid}/task/${pid}/stat`),
    rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(rss)?.[1] ?? NaN),
    wakeups: field("voluntary_ctxt_switches") + field("nonvoluntary_ctxt_switches"),
  };
}

type Window = {
  seconds: number;
  cpu_pct_of_core: number;
  main_thread_cpu_pct_of_core: number;
  /** The main thread's context switches per second: how often it woke up. */
  main_thread_wakeups_per_s: number;
  rss_mib: number;
  rss_mib_min: number;
  rss_mib_max: number;
  /** Right after a full garbage collection at the end of the window. */
  after_gc: { rss_mib: number; heap_used_mib: number; external_mib: number };
};

const MIB = 1024 * 1024;
const GC_OUT = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hangar-bench-gc-")), "memory.json");

/** Asks the server for a full garbage collection (bench/lib/gc.mjs); its memoryUsage() after it. */
async function collect(pid: number): Promise<NodeJS.MemoryUsage> {
  fs.rmSync(GC_OUT, { force: true });
  process.kill(pid, "SIGUSR2");
  for (let i = 0; i < 500; i++) {
    if (fs.existsSync(GC_OUT)) return JSON.parse(fs.readFileSync(GC_OUT, "utf8")) as NodeJS.MemoryUsage;
    await sleep(10);
  }
  throw new Error("the server did not answer the GC signal (bench/lib/gc.mjs)");
}

/** The server's CPU over `seconds`, and its RSS sampled every second (the median is the figure). */
async function measure(pid: number, seconds: number): Promise<Window> {
  const start = readProc(pid);
  const t0 = performance.now();
  const rss: number[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(1000);
    rss.push(readProc(pid).rssKiB / 1024);
  }
  const end = readProc(pid);
  const elapsed = (performance.now() - t0) / 1000;
  const heap = await collect(pid);
  const pct = (ticks: number) => round2((ticks / TICKS / elapsed) * 100);
  rss.sort((a, b) => a - b);
  return {
    seconds: round2(elapsed),
    cpu_pct_of_core: pct(end.ticks - start.ticks),
    main_thread_cpu_pct_of_core: pct(end.mainTicks - start.mainTicks),
    main_thread_wakeups_per_s: round2((end.wakeups - start.wakeups) / elapsed),
    rss_mib: round2(rss[Math.floor(rss.length / 2)] ?? 0),
    rss_mib_min: round2(rss[0] ?? 0),
    rss_mib_max: round2(rss.at(-1) ?? 0),
    after_gc: {
      rss_mib: round2(readProc(pid).rssKiB / 1024),
      heap_used_mib: round2(heap.heapUsed / MIB),
      external_mib: round2(heap.external / MIB),
    },
  };
}

type Session = { id: string; status: string; failure_reason?: string | null };

async function waitReady(hangar: Hangar, id: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const s = await hangar.api<Session>("GET", `${SESSIONS}/${id}`);
    if (s.status === "ready") return;
    if (s.status !== "creating") throw new Error(`session ${id} ${s.status}: ${s.failure_reason ?? ""}`);
    if (Date.now() > deadline) throw new Error(`session ${id} not ready in 180 s`);
    await sleep(200);
  }
}

/** Starts `count` sessions of the agent, `START_CONCURRENCY` at a time, each until it is ready. */
async function startSessions(hangar: Hangar, agentId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  let ready = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const created = await hangar.api<Session>("POST", `${AGENTS}/${agentId}/session`, {});
      hangar.sessions.push(created.id);
      ids.push(created.id);
      await waitReady(hangar, created.id);
      progress(`${++ready}/${count} sessions ready`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, count) }, worker));
  return ids;
}

async function main() {
  const db = envDb();
  const host = machine();
  const hangar = await startHangar({
    db,
    probe: false,
    nodeOptions: ["--expose-gc", `--import ${path.join(ROOT, "bench", "lib", "gc.mjs")}`],
    env: { BENCH_GC_OUT: GC_OUT },
  });
  try {
    const pid = hangar.server.proc.pid!;
    const agent = await hangar.api<{ id: string }>("POST", AGENTS, {
      name: `bench-idle-${Date.now().toString(36)}`,
      model: "hangar-test-model",
      harness_id: HARNESS,
    });

    progress("warm-up: one session created, ready, stopped");
    const [warm] = await startSessions(hangar, agent.id, 1);
    await hangar.api("DELETE", `${SESSIONS}/${warm}`);
    hangar.sessions.splice(hangar.sessions.indexOf(warm!), 1);
    await sleep(SETTLE_SECONDS * 1000);
    progress(`baseline: no session, ${SECONDS} s`);
    const baseline = await measure(pid, SECONDS);
    progress(`baseline: ${JSON.stringify(baseline)}`);

    const started = Date.now();
    await startSessions(hangar, agent.id, COUNT);
    const startSeconds = round2((Date.now() - started) / 1000);
    progress(`${COUNT} sessions ready in ${startSeconds} s; settling ${SETTLE_SECONDS} s`);
    await sleep(SETTLE_SECONDS * 1000);
    progress(`${COUNT} idle sessions, ${SECONDS} s`);
    const idle = await measure(pid, SECONDS);
    progress(`idle: ${JSON.stringify(idle)}`);
    let stillReady = 0;
    for (const id of hangar.sessions)
      if ((await hangar.api<Session>("GET", `${SESSIONS}/${id}`)).status === "ready") stillReady++;

    const perSession = (a: number, b: number) => round2((b - a) / COUNT);
    const growth = perSession(baseline.after_gc.rss_mib, idle.after_gc.rss_mib);
    writeResult("idle", {
      bench: "idle",
      db,
      driver: "local",
      harness: HARNESS,
      sessions: COUNT,
      sessions_ready_after: stillReady,
      start_seconds: startSeconds,
      settle_seconds: SETTLE_SECONDS,
      targets: TARGETS,
      baseline,
      idle,
      cpu_pct_of_core: idle.cpu_pct_of_core,
      rss_growth_mib_per_session: growth,
      rss_median_growth_mib_per_session: perSession(baseline.rss_mib, idle.rss_mib),
      heap_growth_mib_per_session: perSession(baseline.after_gc.heap_used_mib, idle.after_gc.heap_used_mib),
      met: {
        cpu: idle.cpu_pct_of_core < TARGETS.cpu_pct_of_core_max,
        rss: growth < TARGETS.rss_growth_mib_per_session_max,
      },
      machine: host,
    });
  } finally {
    await hangar.stop();
    fs.rmSync(path.dirname(GC_OUT), { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
