/*
 * Burst: the reference product's load schedule (its scripts/mini-load-test.sh: 40 session starts in
 * five phases, up to 10 a minute, none stopped) against a started Hangar on the local driver, with
 * the warm pool at its configured size. Each start is timed from the POST until the session is
 * ready, as the script measures it (polling the session), and split by the session's `spawn_mode`.
 * Hangar's own CPU (the server.ts process from /proc, never the sandboxes') and RSS are sampled.
 *
 * The schedule, as the reference describes it: baseline 1/min for 3 min, a light burst of 5/min for
 * 2 min, a heavy burst of 10/min for 2 min, recovery 1/min for 2 min, and a final check of 5 in the
 * last minute: 40 starts in 10 minutes. BENCH_SHORT=1 keeps the rates and phases in a fifth of the
 * time (2 minutes, 9 starts), for quick runs.
 *
 *   npm run bench:burst   BENCH_HARNESS (opencode), BENCH_SHORT, BENCH_DB (pglite|postgres),
 *                         HANGAR_POOL_* (the pool's sizes; opencode's default 2)
 * Prints one JSON object; also writes bench/results/burst-<timestamp>.json.
 */
import fs from "node:fs";

import { envDb, machine, progress, round2, SESSIONS, sleep, startHangar, writeResult } from "./lib/hangar";

const AGENTS = "/api/v1/managed_agents/agents";
const HARNESS = process.env.BENCH_HARNESS?.trim() || "opencode";
const SHORT = process.env.BENCH_SHORT === "1";
/** The bench harness's pool size: HANGAR_POOL_<HARNESS>, else Hangar's own default. */
const POOL_KEY = `HANGAR_POOL_${HARNESS.toUpperCase().replace(/-/g, "_")}`;
const POOL_SIZE = Number(process.env[POOL_KEY] ?? (HARNESS === "opencode" ? 2 : 1));
const TARGETS = { ready: SHORT ? 9 : 40, warm_p50_ms_max: 300, warm_p95_ms_max: 1000, max_ms_max: 5000 };

/** [starts per minute, minutes] per phase. */
const PHASES: { name: string; perMinute: number; minutes: number }[] = [
  { name: "baseline", perMinute: 1, minutes: 3 },
  { name: "light_burst", perMinute: 5, minutes: 2 },
  { name: "heavy_burst", perMinute: 10, minutes: 2 },
  { name: "recovery", perMinute: 1, minutes: 2 },
  { name: "final_check", perMinute: 5, minutes: 1 },
];

/** When each start is due, in ms from the beginning, and its phase. */
function schedule(): { at: number; phase: string }[] {
  const minute = SHORT ? 12_000 : 60_000;
  const starts: { at: number; phase: string }[] = [];
  let offset = 0;
  for (const phase of PHASES) {
    // The short form keeps the rates; five times less time means a fifth of the starts.
    const count = SHORT
      ? Math.max(1, Math.round((phase.perMinute * phase.minutes) / 5))
      : phase.perMinute * phase.minutes;
    const gap = (phase.minutes * minute) / count;
    for (let i = 0; i < count; i++) starts.push({ at: offset + i * gap, phase: phase.name });
    offset += phase.minutes * minute;
  }
  return starts;
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return round2(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
};
const stats = (values: number[]) => ({
  count: values.length,
  p50_ms: pct(values, 50),
  p95_ms: pct(values, 95),
  max_ms: values.length ? round2(Math.max(...values)) : null,
});

const TICKS = 100; // USER_HZ on Linux
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}
function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN) / 1024;
}

type Session = { id: string; status: string; spawn_mode: "warm" | "cold"; failure_reason: string | null };
type Start = { phase: string; ms: number | null; spawn_mode: string | null; error?: string };

async function main() {
  const hangar = await startHangar({
    db: envDb(),
    probe: false,
    env: {
      HANGAR_IDLE_TIMEOUT_MINUTES: "120",
      // The pool logs each warm sandbox at info (the bench waits for a full pool).
      LOG_LEVEL: "info",
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("HANGAR_POOL_"))),
      [POOL_KEY]: String(POOL_SIZE),
    } as Record<string, string>,
  });
  const pid = hangar.server.proc.pid!;
  try {
    const agent = await hangar.api<{ id: string }>("POST", AGENTS, {
      name: `burst-${HARNESS}`,
      model: "m/burst",
      harness_id: HARNESS,
    });
    // The pool boots while Hangar starts; the schedule begins once it is full (as a server that has
    // been up a while would be).
    const size = POOL_SIZE > 0 ? await waitForPool(hangar.server.logFile) : 0;
    progress(`pool full (${size} warm ${HARNESS} sandbox(es)); running the schedule`);

    const starts: Start[] = [];
    const begin = performance.now();
    const cpu0 = cpuTicks(pid);
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(rssMiB(pid)), 1000);
    const runs = schedule().map(async ({ at, phase }, i) => {
      await sleep(Math.max(0, at - (performance.now() - begin)));
      const t0 = performance.now();
      try {
        const created = await hangar.api<Session>("POST", `${AGENTS}/${agent.id}/session`, {});
        hangar.sessions.push(created.id);
        for (;;) {
          const s = await hangar.api<Session>("GET", `${SESSIONS}/${created.id}`);
          if (s.status === "ready") {
            starts[i] = { phase, ms: round2(performance.now() - t0), spawn_mode: s.spawn_mode };
            break;
          }
          if (s.status !== "creating") throw new Error(`${s.status}: ${s.failure_reason ?? ""}`);
          if (performance.now() - t0 > 180_000) throw new Error("not ready in 180 s");
          await sleep(20);
        }
      } catch (err) {
        starts[i] = { phase, ms: null, spawn_mode: null, error: (err as Error).message };
      }
      const s = starts[i]!;
      progress(`${i + 1} ${phase}: ${s.ms ?? "failed"} ms ${s.spawn_mode ?? s.error ?? ""}`);
    });
    await Promise.all(runs);
    clearInterval(sampler);
    const seconds = (performance.now() - begin) / 1000;
    const cpu = ((cpuTicks(pid) - cpu0) / TICKS / seconds) * 100;

    const ok = starts.filter((s) => s.ms !== null);
    const ms = (mode: string) => ok.filter((s) => s.spawn_mode === mode).map((s) => s.ms!);
    const warm = stats(ms("warm"));
    const all = stats(ok.map((s) => s.ms!));
    const out = {
      bench: "burst",
      harness: HARNESS,
      db: hangar.db,
      schedule: SHORT ? "short (2 min)" : "full (10 min)",
      pool_size: size,
      machine: machine(),
      targets: TARGETS,
      starts: starts.length,
      ready: ok.length,
      failures: starts.filter((s) => s.ms === null).map((s) => s.error),
      start: all,
      warm,
      cold: stats(ms("cold")),
      by_phase: Object.fromEntries(
        PHASES.map((p) => [p.name, stats(ok.filter((s) => s.phase === p.name).map((s) => s.ms!))]),
      ),
      hangar: {
        cpu_pct_of_core: round2(cpu),
        rss_mib_start: round2(rss[0] ?? rssMiB(pid)),
        rss_mib_end: round2(rssMiB(pid)),
        rss_mib_max: round2(Math.max(...rss, 0)),
      },
      met: {
        ready: ok.length >= TARGETS.ready,
        warm_p50: warm.p50_ms !== null && warm.p50_ms <= TARGETS.warm_p50_ms_max,
        warm_p95: warm.p95_ms !== null && warm.p95_ms <= TARGETS.warm_p95_ms_max,
        max: all.max_ms !== null && all.max_ms <= TARGETS.max_ms_max,
      },
    };
    writeResult("burst", out);
    console.log(JSON.stringify(out));
  } finally {
    await hangar.stop();
  }
}

/** Waits until the server has logged as many warm sandboxes of the harness as its pool holds. */
async function waitForPool(logFile: string): Promise<number> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const warm = fs
      .readFileSync(logFile, "utf8")
      .split("\n")
      .filter((l) => l.includes('"warm sandbox ready"') && l.includes(`"harnessId":"${HARNESS}"`)).length;
    if (warm >= POOL_SIZE) return POOL_SIZE;
    await sleep(200);
  }
  throw new Error(`the warm pool did not fill in 180 s (${POOL_KEY}=${POOL_SIZE})`);
}

await main();
