/*
 * Turn overhead of Hangar's synchronous message API: the same harness process in the same sandbox,
 * talking to the same built-in test model, driven directly and through POST /sessions/{id}/message,
 * turn for turn (ABAB), so drift in the machine's load affects both alike.
 *
 * - opencode, direct: POST /session/{hid}/message (opencode's own synchronous call) on the sandbox's
 *   `opencode serve`, through the session's host socket <dataDir>/sessions/<id>/run/tunnels/harness.sock
 *   with the session's Basic-auth password (derived from <dataDir>/encryption.key as Hangar does),
 *   on an opencode session created here.
 * - claude-agent-sdk, direct: createClaudeSdkSession turns whose CLI runs inside the same sandbox
 *   through LocalDriver.spawn, exactly as lib/sessions/messaging.ts starts it, with a no-op emit.
 * - through Hangar: POST /api/v1/managed_agents/sessions/{id}/message {"text": "REPLY: ok"}.
 *
 *   npm run bench:message      BENCH_TURNS (50), BENCH_WARMUP_TURNS (3),
 *                              BENCH_HARNESSES (opencode,claude-agent-sdk), BENCH_DB (pglite|postgres),
 *                              BENCH_PROBE (1; 0 leaves the timing probe out of the server)
 * Progress goes to stderr; one JSON object to stdout and to bench/results/message-<timestamp>.json.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

import {
  createClaudeSdkSession,
  createOpencodeSession,
  sdkChildEnv,
  withSessionEnv,
  type HarnessSession,
} from "../lib/harness";
import { LocalDriver } from "../lib/sandbox/drivers/local";
import type { TurnEvent } from "../lib/schemas/session-event";
import { SecretBox } from "../lib/secret-box";
import {
  envDb,
  envNumber,
  machine,
  progress,
  readySession,
  round2,
  SESSIONS,
  startHangar,
  summarize,
  wallClock,
  writeResult,
  type Hangar,
  type Probe,
  type Summary,
} from "./lib/hangar";

const TURNS = Math.floor(envNumber("BENCH_TURNS", 50));
const WARMUP = Math.floor(envNumber("BENCH_WARMUP_TURNS", 3));
const HARNESSES = (process.env.BENCH_HARNESSES?.trim() || "opencode,claude-agent-sdk").split(",");
const PROBE = process.env.BENCH_PROBE !== "0";
const TEXT = "REPLY: ok";
const EXPECTED = "ok";
const TARGETS = { overhead_p50_ms_max: 5 };
const now = wallClock();

type Direct = { turn: () => Promise<number>; close: () => Promise<void>; how: string };

// ---- opencode, directly -------------------------------------------------------------------------

/** As lib/runtime.ts reads HANGAR_ENCRYPTION_KEY / encryption.key: 64 hex digits, else base64. */
function encryptionKey(dataDir: string): Buffer {
  const value = fs.readFileSync(path.join(dataDir, "encryption.key"), "utf8").trim();
  return /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
}

/** The session's opencode serve as the host reaches it, and its Basic-auth password. */
function opencodeAccess(hangar: Hangar, sessionId: string) {
  const dataDir = hangar.server.dataDir;
  return {
    socketPath: path.join(dataDir, "sessions", sessionId, "run", "tunnels", "harness.sock"),
    password: new SecretBox(encryptionKey(dataDir)).derive(`harness-password:${sessionId}`),
  };
}

async function directOpencode(hangar: Hangar, sessionId: string, model: string): Promise<Direct> {
  const { socketPath, password } = opencodeAccess(hangar, sessionId);
  const authorization = `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = (method: string, p: string, body?: unknown) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          agent,
          socketPath,
          method,
          path: p,
          headers: {
            authorization,
            accept: "application/json",
            ...(payload === undefined ? {} : { "content-type": "application/json" }),
          },
          timeout: 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: kept as text for the error message
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`opencode: no answer to ${method} ${p}`)));
      req.on("error", reject);
      req.end(payload);
    });

  const created = await call("POST", "/session", { title: "bench direct" });
  if (created.status !== 200) throw new Error(`opencode POST /session: ${created.status}`);
  const hid = (created.body as { id: string }).id;
  const messagePath = `/session/${encodeURIComponent(hid)}/message`;
  const body = { parts: [{ type: "text", text: TEXT }], model: { providerID: "hangar", modelID: model } };
  return {
    how: "POST /session/{hid}/message on the sandbox's opencode serve through harness.sock",
    turn: async () => {
      const t0 = performance.now();
      const res = await call("POST", messagePath, body);
      const ms = performance.now() - t0;
      const reply = res.body as {
        info?: { finish?: string; error?: unknown };
        parts?: { type: string; text?: string }[];
      };
      const text = (reply.parts ?? [])
        .filter((p) => p.type === "text")
        .map((p) => p.text)
        .join("");
      if (res.status !== 200 || reply.info?.error || text !== EXPECTED) {
        throw new Error(`direct opencode turn: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
      return ms;
    },
    close: async () => {
      await call("DELETE", `/session/${encodeURIComponent(hid)}`).catch(() => undefined);
      agent.destroy();
    },
  };
}

/**
 * The third arm (opencode only): Hangar's own turn adapter (lib/harness/opencode/session.ts: GET /event,
 * prompt_async, events until idle) run in this process with a no-op emit: no database, no API. It
 * splits the overhead into the adapter's protocol and Hangar's messaging around it.
 */
async function adapterOpencode(hangar: Hangar, sessionId: string, model: string): Promise<Direct> {
  const session: HarnessSession = await createOpencodeSession({
    ...opencodeAccess(hangar, sessionId),
    model,
    prompt: "",
    harnessSessionId: null,
  });
  return {
    how: "lib/harness/opencode/session.ts createOpencodeSession turns in the bench process, no-op emit",
    turn: () => adapterTurn(session, "opencode adapter"),
    close: () => session.close(),
  };
}

async function adapterTurn(session: HarnessSession, label: string): Promise<number> {
  let text = "";
  const t0 = performance.now();
  const summary = await session.turn({
    text: TEXT,
    signal: new AbortController().signal,
    emit: async (event: TurnEvent) => {
      if (event.type === "assistant_text") text += event.text;
    },
  });
  const ms = performance.now() - t0;
  if (summary.finish !== "stop" || text !== EXPECTED) {
    throw new Error(`${label} turn: ${summary.finish} ${summary.error ?? ""} text=${text}`);
  }
  return ms;
}

// ---- claude-agent-sdk, directly -------------------------------------------------------------------

async function directClaude(hangar: Hangar, sessionId: string, model: string): Promise<Direct> {
  const driver = new LocalDriver({ root: path.join(hangar.server.dataDir, "sessions") });
  const session = await createClaudeSdkSession({
    model,
    prompt: "",
    harnessSessionId: null,
    spawn: (argv, options) =>
      driver.spawn(sessionId, withSessionEnv(argv), { env: sdkChildEnv(options.env), cwd: options.cwd }),
  });
  return {
    how: "createClaudeSdkSession turns, CLI spawned in the sandbox via LocalDriver.spawn(withSessionEnv(argv)), no-op emit",
    turn: () => adapterTurn(session, "direct claude-agent-sdk"),
    close: () => session.close(),
  };
}

// ---- through Hangar -----------------------------------------------------------------------------

type HangarTurn = { ms: number; sent: number; received: number; messageId: string };

async function hangarTurn(hangar: Hangar, sessionId: string): Promise<HangarTurn> {
  const sent = now();
  const t0 = performance.now();
  const reply = await hangar.api<{
    info: { id: string; finish?: string };
    parts: { type: string; text?: string }[];
  }>("POST", `${SESSIONS}/${sessionId}/message`, { text: TEXT });
  const ms = performance.now() - t0;
  const received = now();
  const text = reply.parts
    .filter((p) => p.type === "text")
    .map((p) => p.text)
    .join("");
  if (text !== EXPECTED) throw new Error(`Hangar turn answered ${JSON.stringify(reply).slice(0, 300)}`);
  return { ms, sent, received, messageId: reply.info.id };
}

type LogEvent = { seq: number; type: string; data: Record<string, unknown>; at: string };

async function readLog(hangar: Hangar, sessionId: string): Promise<LogEvent[]> {
  const all: LogEvent[] = [];
  for (let after = 0; ;) {
    const page = await hangar.api<{ data: LogEvent[] }>(
      "GET",
      `${SESSIONS}/${sessionId}/log?after=${after}&limit=1000`,
    );
    all.push(...page.data);
    if (page.data.length < 1000) return all;
    after = page.data.at(-1)!.seq;
  }
}

/**
 * Where a Hangar turn's time goes, from the log's `at` stamps (ms resolution, set when each event's
 * insert transaction starts) and the client's send/receive times on the same clock.
 */
function breakdown(turns: HangarTurn[], log: LogEvent[]) {
  const pre: number[] = [];
  const toFirst: number[] = [];
  const span: number[] = [];
  const post: number[] = [];
  const events: number[] = [];
  for (const turn of turns) {
    const started = log.find((e) => e.type === "turn_started" && e.data.message_id === turn.messageId);
    if (!started) continue;
    const own = log.filter((e) => e.data.turn_id === started.data.turn_id);
    const first = own.find((e) => e.type !== "turn_started");
    const end = own.find((e) => e.type === "turn_complete" || e.type === "turn_error");
    if (!first || !end) continue;
    const at = (e: LogEvent) => Date.parse(e.at);
    pre.push(at(started) - turn.sent);
    toFirst.push(at(first) - at(started));
    span.push(at(end) - at(started));
    post.push(turn.received - at(end));
    events.push(own.length + 1); // + the user_message
  }
  const p50 = (v: number[]) => summarize(v).p50_ms;
  return {
    note:
      "p50 over the measured turns; `at` has 1 ms resolution. request→turn_started: HTTP, auth, " +
      "session row, user_message append. turn_started→first event: harness connection, prompt, " +
      "model. turn_started→turn_complete: the whole harness turn as Hangar runs it. " +
      "turn_complete→response: the last append, readThread over the whole log, the reply.",
    request_to_turn_started_ms: p50(pre),
    turn_started_to_first_event_ms: p50(toFirst),
    turn_started_to_turn_complete_ms: p50(span),
    turn_complete_to_response_ms: p50(post),
    events_per_turn: p50(events),
    log_events_at_end: log.length,
  };
}

// ---- one harness -------------------------------------------------------------------------------

type Row = {
  direct: Summary;
  hangar: Summary;
  overhead_paired: Summary;
  overhead_paired_p50_ci95_ms: [number, number];
  overhead_of_percentiles: { p50_ms: number; p99_ms: number };
  overhead_paired_p50_first_vs_last_10_turns_ms: [number, number];
  target_met: boolean;
  direct_how: string;
  /** opencode: Hangar's adapter driven directly, and the overhead split at it (paired p50s). */
  adapter: {
    how: string;
    turn: Summary;
    adapter_minus_direct_paired_p50_ms: number;
    hangar_minus_adapter_paired_p50_ms: number;
  } | null;
  hangar_breakdown: ReturnType<typeof breakdown>;
  hangar_db_per_turn: Record<string, unknown> | null;
  server_event_loop_per_turn: Record<string, unknown> | null;
};

/** Distribution-free 95 % interval of the median (order statistics, normal approximation). */
function medianCi95(values: number[]): [number, number] {
  const sorted = [...values].sort((x, y) => x - y);
  const n = sorted.length;
  const half = 0.98 * Math.sqrt(n);
  const lo = Math.max(1, Math.floor(n / 2 - half));
  const hi = Math.min(n, Math.ceil(n / 2 + 1 + half));
  return [round2(sorted[lo - 1] ?? 0), round2(sorted[hi - 1] ?? 0)];
}

const pairedP50 = (a: number[], b: number[]) => summarize(a.map((x, i) => x - b[i]!)).p50_ms;

async function benchHarness(hangar: Hangar, harness: string): Promise<Row> {
  progress(`${harness}: creating a session`);
  const { sessionId, model } = await readySession(hangar, harness);
  let direct: Direct | null = null;
  let adapter: Direct | null = null;
  try {
    if (harness === "opencode") {
      direct = await directOpencode(hangar, sessionId, model);
      adapter = await adapterOpencode(hangar, sessionId, model);
    } else if (harness === "claude-agent-sdk") {
      direct = await directClaude(hangar, sessionId, model);
    } else {
      throw new Error(`${harness}: only opencode and claude-agent-sdk have a synchronous turn API`);
    }
    const arms = adapter ? "direct, hangar, adapter" : "direct, hangar";
    progress(`${harness}: ${WARMUP} warm-up rounds (${arms})`);
    for (let i = 0; i < WARMUP; i++) {
      await direct.turn();
      await hangarTurn(hangar, sessionId);
      await adapter?.turn();
    }
    await hangar.probe(); // drop what the warm-up recorded
    const d: number[] = [];
    const h: HangarTurn[] = [];
    const a: number[] = [];
    const db = {
      tx: [] as number[],
      queries: [] as number[],
      by_sql: {} as Record<string, { count: number; total_ms: number }>,
    };
    // The server's event loop during each arm's turns (the built-in model runs on it in every arm).
    const loops: Record<"direct" | "hangar" | "adapter", Probe["event_loop"][]> = {
      direct: [],
      hangar: [],
      adapter: [],
    };
    for (let i = 0; i < TURNS; i++) {
      d.push(await direct.turn());
      const afterDirect = await hangar.probe();
      if (afterDirect) loops.direct.push(afterDirect.event_loop);
      h.push(await hangarTurn(hangar, sessionId));
      // Only the Hangar turn touches Hangar's database: what the probe saw since is that turn's.
      const probe = await hangar.probe();
      if (probe) {
        loops.hangar.push(probe.event_loop);
        db.tx.push(...probe.tx);
        db.queries.push(...probe.queries);
        for (const [label, v] of Object.entries(probe.by_sql)) {
          const entry = (db.by_sql[label] ??= { count: 0, total_ms: 0 });
          entry.count += v.count;
          entry.total_ms += v.total_ms;
        }
      }
      if (adapter) {
        a.push(await adapter.turn());
        const afterAdapter = await hangar.probe();
        if (afterAdapter) loops.adapter.push(afterAdapter.event_loop);
      }
      if ((i + 1) % 10 === 0 || i === TURNS - 1) {
        progress(
          `${harness} ${i + 1}/${TURNS}: direct ${d.at(-1)!.toFixed(1)} ms, hangar ${h.at(-1)!.ms.toFixed(1)} ms` +
            (adapter ? `, adapter ${a.at(-1)!.toFixed(1)} ms` : ""),
        );
      }
    }
    const hangarMs = h.map((t) => t.ms);
    const diffs = hangarMs.map((ms, i) => ms - d[i]!);
    const ds = summarize(d);
    const hs = summarize(hangarMs);
    const paired = summarize(diffs);
    const sum = (v: number[]) => v.reduce((x, y) => x + y, 0);
    const tail = Math.min(10, diffs.length);
    return {
      direct: ds,
      hangar: hs,
      overhead_paired: paired,
      overhead_paired_p50_ci95_ms: medianCi95(diffs),
      overhead_of_percentiles: {
        p50_ms: round2(hs.p50_ms - ds.p50_ms),
        p99_ms: round2(hs.p99_ms - ds.p99_ms),
      },
      overhead_paired_p50_first_vs_last_10_turns_ms: [
        summarize(diffs.slice(0, tail)).p50_ms,
        summarize(diffs.slice(-tail)).p50_ms,
      ],
      target_met: paired.p50_ms <= TARGETS.overhead_p50_ms_max,
      direct_how: direct.how,
      adapter: adapter
        ? {
            how: adapter.how,
            turn: summarize(a),
            adapter_minus_direct_paired_p50_ms: pairedP50(a, d),
            hangar_minus_adapter_paired_p50_ms: pairedP50(hangarMs, a),
          }
        : null,
      hangar_breakdown: breakdown(h, await readLog(hangar, sessionId)),
      hangar_db_per_turn: PROBE
        ? {
            note:
              "wall time of Hangar's database calls during each Hangar turn (timing probe in the " +
              "server); appends run while the harness streams, so not all of it is on the turn's path",
            transactions: round2(db.tx.length / TURNS),
            transaction_ms: round2(sum(db.tx) / TURNS),
            transaction_p50_ms: summarize(db.tx).p50_ms,
            queries_outside_transactions: round2(db.queries.length / TURNS),
            query_ms: round2(sum(db.queries) / TURNS),
            queries_by_statement: Object.fromEntries(
              Object.entries(db.by_sql).map(([k, v]) => [
                k,
                { per_turn: round2(v.count / TURNS), ms_per_turn: round2(v.total_ms / TURNS) },
              ]),
            ),
          }
        : null,
      server_event_loop_per_turn: PROBE
        ? {
            note:
              "Hangar's event loop (it also serves the built-in model to the harness in every arm), " +
              "medians over each arm's turns of: utilization, and the longest stall in the turn",
            ...Object.fromEntries(
              Object.entries(loops)
                .filter(([, v]) => v.length > 0)
                .map(([arm, v]) => [
                  arm,
                  {
                    utilization: summarize(v.map((l) => l.utilization)).p50_ms,
                    longest_stall_ms: summarize(v.map((l) => l.delay_max_ms)).p50_ms,
                  },
                ]),
            ),
          }
        : null,
    };
  } finally {
    await adapter?.close().catch(() => undefined);
    await direct?.close().catch(() => undefined);
  }
}

async function main() {
  const db = envDb();
  const info = machine();
  progress(`${TURNS} turn pairs per harness (${HARNESSES.join(", ")}), database ${db}`);
  const hangar = await startHangar({ db, probe: PROBE });
  const harnesses: Record<string, Row> = {};
  try {
    for (const harness of HARNESSES) harnesses[harness] = await benchHarness(hangar, harness);
  } finally {
    await hangar.stop();
  }
  writeResult("message", {
    bench: "message",
    machine: info,
    database: db,
    driver: "local",
    turns: TURNS,
    warmup_turns: WARMUP,
    text: TEXT,
    probe: PROBE,
    overhead_basis:
      "overhead_paired: percentiles of the per-pair differences (hangar − direct, turn i against " +
      "turn i); overhead_of_percentiles: hangar percentile − direct percentile. target_met uses " +
      "overhead_paired.p50_ms.",
    targets: TARGETS,
    harnesses,
  });
}

await main();
