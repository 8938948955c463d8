/*
 * Session start: time from POST /agents/{id}/session to `ready`, per harness, with the phase
 * breakdown, against a Hangar on the embedded database and the local (bubblewrap) driver.
 * Hangar's own overhead is the total minus the harness's own boot (for opencode, the time
 * `opencode serve` needs when started by hand, measured here too; no repo and no requirements, so
 * clone and pip are zero).
 *
 *   npm run bench:session-start          BENCH_SESSIONS (20 per harness), BENCH_HARNESSES (all)
 * Prints one JSON object; also writes bench/results/session-start-<timestamp>.json.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { startServer } from "../e2e/support/server";
import { harnessOf } from "../lib/harness";
import { HARNESS_IDS, type HarnessId } from "../lib/schemas/harness";

const COUNT = Number(process.env.BENCH_SESSIONS ?? 20);
const HARNESSES = (process.env.BENCH_HARNESSES?.split(",") ?? HARNESS_IDS) as HarnessId[];
const TARGETS = { overhead_p50_ms_max: 300, total_p50_ms_max: 1000 };

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length
    ? (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0)
    : 0;
};
const round = (x: number) => Math.round(x * 10) / 10;

/**
 * `opencode serve` started by hand, until its health endpoint answers 200 (what Hangar waits for; the
 * port opens about a second earlier): the harness's own boot.
 */
async function opencodeByHand(): Promise<number> {
  const port = 41000 + Math.floor(Math.random() * 1000);
  const started = performance.now();
  const child = spawn(
    harnessOf("opencode").binary.file(),
    ["serve", "--hostname", "127.0.0.1", "--port", String(port)],
    {
      env: {
        ...process.env,
        OPENCODE_DISABLE_MODELS_FETCH: "1",
        OPENCODE_DISABLE_AUTOUPDATE: "1",
        OPENCODE_SERVER_PASSWORD: "bench",
        HOME: fs.mkdtempSync("/tmp/oc-"),
      },
      stdio: "ignore",
    },
  );
  const auth = "Basic " + Buffer.from("opencode:bench").toString("base64");
  try {
    for (;;) {
      const healthy = await fetch(`http://127.0.0.1:${port}/global/health`, {
        headers: { authorization: auth },
        signal: AbortSignal.timeout(1000),
      })
        .then((res) => res.ok)
        .catch(() => false);
      if (healthy) return performance.now() - started;
      if (performance.now() - started > 60_000) throw new Error("opencode serve did not answer");
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill("SIGKILL");
  }
}

/** The harness's own readiness check run by hand (`<binary> --version`). */
async function versionByHand(binary: string): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binary, ["--version"], { stdio: "ignore" });
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${binary} --version exited ${code}`)),
    );
  });
  return performance.now() - started;
}

async function main() {
  const server = await startServer({ env: { LOG_LEVEL: "warn" } });
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(server.url + p, {
      method,
      headers: { authorization: `Bearer ${server.masterKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.json();
  };
  const results: Record<string, unknown> = {};
  try {
    for (const harness of HARNESSES) {
      const agent = await call("POST", "/api/v1/managed_agents/agents", {
        model: "m/x",
        harness_id: harness,
        name: `bench-${harness}`,
      });
      const totals: number[] = [];
      const phases: Record<string, number[]> = {};
      for (let i = 0; i < COUNT; i++) {
        const started = performance.now();
        const session = await call("POST", `/api/v1/managed_agents/agents/${agent.id}/session`, {});
        let s = session;
        while (s.status === "creating") {
          await new Promise((r) => setTimeout(r, 5));
          s = await call("GET", `/api/v1/managed_agents/sessions/${session.id}`);
        }
        if (s.status !== "ready") throw new Error(`${harness} session failed: ${s.failure_reason}`);
        totals.push(performance.now() - started);
        for (const [phase, ms] of Object.entries(s.timings as Record<string, number>))
          (phases[phase] ??= []).push(ms);
        await call("DELETE", `/api/v1/managed_agents/sessions/${session.id}`);
        process.stderr.write(`${harness} ${i + 1}/${COUNT}: ${Math.round(totals.at(-1) ?? 0)} ms\n`);
      }
      const own =
        harness === "opencode"
          ? await opencodeByHand()
          : await versionByHand(harnessOf(harness).binary.file());
      const p50 = pct(totals, 50);
      results[harness] = {
        total_p50_ms: round(p50),
        total_p95_ms: round(pct(totals, 95)),
        phases_p50_ms: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(pct(v, 50))])),
        harness_own_boot_ms: round(own),
        overhead_p50_ms: round(p50 - own),
        met: {
          overhead: p50 - own <= TARGETS.overhead_p50_ms_max,
          total: harness === "opencode" ? null : p50 <= TARGETS.total_p50_ms_max,
        },
      };
    }
  } finally {
    await server.stop();
  }
  const out = {
    bench: "session-start",
    driver: "local",
    sessions_per_harness: COUNT,
    targets: TARGETS,
    harnesses: results,
  };
  const dir = path.join(process.cwd(), "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, `session-start-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
    JSON.stringify(out, null, 2),
  );
  console.log(JSON.stringify(out));
}

await main();
