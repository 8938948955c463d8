/*
 * Session event fan-out: N concurrent SSE subscribers on GET /sessions/{id}/events.
 *
 * (a) Fan-out latency: turns (`SLOW:` + `REPLY:`, so the built-in model streams several deltas)
 *     append events while every subscriber is connected; for each frame a subscriber receives,
 *     receive time − the event's `at` (stamped by the database when the insert's transaction starts;
 *     Hangar, the database and this client share the machine's clock). p50/p99 over frames ×
 *     subscribers.
 * (b) Reconnect: a subscriber closes its stream and opens a new one with Last-Event-ID = its last
 *     seq − BENCH_REPLAY_BACK; time from the new request to the first replayed frame. Two ways:
 *     every subscriber at once ("herd", as after a proxy restart), and one subscriber at a time while
 *     the others stay connected.
 *
 *   npm run bench:events     BENCH_SUBSCRIBERS (50), BENCH_TURNS (25), BENCH_RECONNECT_ROUNDS (5),
 *                            BENCH_REPLAY_BACK (50), BENCH_SLOW_MS (20), BENCH_HARNESS (opencode),
 *                            BENCH_DB (pglite | postgres), BENCH_PROBE (1)
 * Progress goes to stderr; one JSON object to stdout and to bench/results/events-<timestamp>.json.
 */
import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";

import {
  envDb,
  envNumber,
  machine,
  progress,
  readySession,
  round2,
  SESSIONS,
  sleep,
  startHangar,
  summarize,
  wallClock,
  writeResult,
  type Hangar,
  type Probe,
} from "./lib/hangar";

const SUBSCRIBERS = Math.floor(envNumber("BENCH_SUBSCRIBERS", 50));
const TURNS = Math.floor(envNumber("BENCH_TURNS", 25));
const WARMUP_TURNS = 2;
const ROUNDS = Math.floor(envNumber("BENCH_RECONNECT_ROUNDS", 5));
const BACK = Math.floor(envNumber("BENCH_REPLAY_BACK", 50));
const SLOW_MS = envNumber("BENCH_SLOW_MS", 20);
const HARNESS = process.env.BENCH_HARNESS?.trim() || "opencode";
const PROBE = process.env.BENCH_PROBE !== "0";
const TEXT = `SLOW: ${SLOW_MS}\nREPLY: The quick brown fox jumps over the lazy dog, then does it once more.`;
const TARGETS = { fanout_p99_ms_max: 10, reconnect_p99_ms_max: 100 };
const now = wallClock();

// ---- one SSE subscriber -------------------------------------------------------------------------

type Recorder = { measuring: boolean; latencies: number[] };

class Subscriber {
  last = 0;
  frames = 0;
  gaps = 0;
  duplicates = 0;
  private generation = 0;
  private req: http.ClientRequest | null = null;

  constructor(
    private readonly hangar: Hangar,
    private readonly sessionId: string,
    private readonly recorder: Recorder,
  ) {}

  /**
   * Opens the stream after `after`. `head` resolves with the ms from the request to the response
   * headers, `first` with the ms to the first event frame (there is none until an event exists).
   */
  open(after: number): { head: Promise<number>; first: Promise<number> } {
    this.close();
    this.last = after;
    const generation = ++this.generation;
    const url = new URL(this.hangar.server.url);
    let onHead: (ms: number) => void = () => {};
    let onFirst: (ms: number) => void = () => {};
    let fail: (err: Error) => void = () => {};
    const head = new Promise<number>((resolve, reject) => {
      onHead = resolve;
      fail = reject;
    });
    const first = new Promise<number>((resolve, reject) => {
      onFirst = resolve;
      const failHead = fail;
      fail = (err) => {
        failHead(err);
        reject(err);
      };
    });
    head.catch(() => undefined); // not awaited by every caller
    first.catch(() => undefined);
    const t0 = performance.now();
    let gotFirst = false;
    let buffer = "";
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: `${SESSIONS}/${this.sessionId}/events`,
      method: "GET",
      agent: false,
      headers: { ...this.hangar.auth, accept: "text/event-stream", "last-event-id": String(after) },
    });
    this.req = req;
    req.on("error", (err) => {
      if (!gotFirst) fail(err);
    });
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        fail(new Error(`GET /events answered ${res.statusCode}`));
        return;
      }
      onHead(performance.now() - t0);
      res.setEncoding("utf8");
      res.on("error", () => undefined);
      res.on("data", (chunk: string) => {
        if (generation !== this.generation) return; // a stream closed since
        const received = now();
        const receivedMono = performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.startsWith("id: ")) continue; // retry hint, heartbeat comments
          const dataLine = block.split("\n").find((l) => l.startsWith("data: "));
          if (!dataLine) continue;
          const event = JSON.parse(dataLine.slice(6)) as { seq: number; at: string };
          if (!gotFirst) {
            gotFirst = true;
            onFirst(receivedMono - t0);
          }
          if (event.seq <= this.last) {
            this.duplicates++;
            continue;
          }
          if (event.seq !== this.last + 1) this.gaps++;
          this.last = event.seq;
          this.frames++;
          if (this.recorder.measuring) this.recorder.latencies.push(received - Date.parse(event.at));
        }
      });
    });
    req.end();
    return { head, first };
  }

  close() {
    this.req?.destroy();
    this.req = null;
  }
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

type LogEvent = { seq: number };

async function latestSeq(hangar: Hangar, sessionId: string): Promise<number> {
  let last = 0;
  for (;;) {
    const page = await hangar.api<{ data: LogEvent[] }>(
      "GET",
      `${SESSIONS}/${sessionId}/log?after=${last}&limit=1000`,
    );
    if (page.data.length === 0) return last;
    last = page.data.at(-1)!.seq;
  }
}

// ---- probe summaries ----------------------------------------------------------------------------

function fanoutProbe(probe: Probe | null) {
  if (!probe) return null;
  return {
    note:
      "server side (timing probe): append transaction = appendSessionEvents' statement from call to " +
      "commit; commit→SSE write = publish, subscriber wake-up and formatting, per frame × " +
      "subscriber; at→SSE write = the server's share of the client's figure; SSE write = res.write " +
      "itself; write→socket flush = until the socket is uncorked (at once by Hangar after its first " +
      "chunk, else Node on the next tick); last write→flush = " +
      "what ran between the last frame written and that flush",
    append_transaction: summarize(probe.append_tx_ms),
    commit_to_sse_write: summarize(probe.commit_to_write_ms),
    at_to_sse_write: summarize(probe.at_to_write_ms),
    sse_write_call: summarize(probe.sse_write_ms),
    sse_write_to_socket_flush: summarize(probe.write_to_flush_ms),
    last_sse_write_to_socket_flush: summarize(probe.last_write_to_flush_ms),
    transactions_begun_while_frames_unflushed: `${probe.tx_while_flush_pending} of ${probe.tx.length}`,
    queries_outside_transactions: summarize(probe.queries),
    event_loop: probe.event_loop,
  };
}

function reconnectProbe(probe: Probe | null) {
  if (!probe) return null;
  const frames = probe.first_frame;
  return {
    note:
      "server side (timing probe), per reconnect: request arrival → response headers (auth, " +
      "session row); headers → first frame written (touchSession, the log read after Last-Event-ID)",
    arrival_to_headers: summarize(
      frames.flatMap((f) => (f.arrival_to_head_ms === null ? [] : [f.arrival_to_head_ms])),
    ),
    headers_to_first_frame: summarize(frames.map((f) => f.head_to_first_ms)),
    event_loop: probe.event_loop,
    queries_by_statement: Object.fromEntries(
      Object.entries(probe.by_sql).map(([k, v]) => [
        k,
        { count: v.count, mean_ms: round2(v.total_ms / Math.max(1, v.count)) },
      ]),
    ),
  };
}

// ---- the run ------------------------------------------------------------------------------------

async function sendTurn(hangar: Hangar, sessionId: string) {
  await hangar.api("POST", `${SESSIONS}/${sessionId}/message`, { text: TEXT });
}

async function run(hangar: Hangar) {
  progress(`${HARNESS}: creating a session`);
  const { sessionId } = await readySession(hangar, HARNESS);
  const recorder: Recorder = { measuring: false, latencies: [] };
  const subscribers = Array.from({ length: SUBSCRIBERS }, () => new Subscriber(hangar, sessionId, recorder));
  try {
    const start = await latestSeq(hangar, sessionId);
    await Promise.all(subscribers.map((s) => s.open(start).head));
    progress(`${SUBSCRIBERS} subscribers connected after seq ${start}; ${WARMUP_TURNS} warm-up turns`);
    for (let i = 0; i < WARMUP_TURNS; i++) await sendTurn(hangar, sessionId);
    let end = await latestSeq(hangar, sessionId);
    await waitFor("the warm-up frames", () => subscribers.every((s) => s.last >= end));

    // (a) fan-out
    await hangar.probe();
    const clientLoop = monitorEventLoopDelay({ resolution: 1 });
    clientLoop.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    recorder.measuring = true;
    const from = end;
    for (let i = 0; i < TURNS; i++) {
      await sendTurn(hangar, sessionId);
      if ((i + 1) % 5 === 0) progress(`fan-out: turn ${i + 1}/${TURNS}`);
    }
    end = await latestSeq(hangar, sessionId);
    await waitFor("every subscriber to catch up", () => subscribers.every((s) => s.last >= end));
    recorder.measuring = false;
    const cpu = process.cpuUsage(cpu0);
    clientLoop.disable();
    const elapsed = performance.now() - t0;
    const fanoutServer = fanoutProbe(await hangar.probe());
    const events = end - from;
    const fanout = {
      events_appended: events,
      events_per_turn: round2(events / TURNS),
      frames: recorder.latencies.length,
      expected_frames: events * SUBSCRIBERS,
      latency: summarize(recorder.latencies),
      min_ms: round2(Math.min(...recorder.latencies)),
      gaps: subscribers.reduce((n, s) => n + s.gaps, 0),
      duplicates: subscribers.reduce((n, s) => n + s.duplicates, 0),
      client_cpu_share_of_one_core: round2((cpu.user + cpu.system) / 1000 / elapsed),
      client_event_loop_delay_p99_ms: round2(clientLoop.percentile(99) / 1e6),
      server: fanoutServer,
      // Not paired frame by frame: the difference of the two medians.
      write_to_client_p50_ms: fanoutServer
        ? round2(summarize(recorder.latencies).p50_ms - fanoutServer.at_to_sse_write.p50_ms)
        : null,
    };
    progress(`fan-out: ${JSON.stringify(fanout.latency)}`);

    // (b) reconnects, every subscriber at once
    const herd: number[] = [];
    const herdHead: number[] = [];
    await hangar.probe();
    for (let round = 0; round < ROUNDS; round++) {
      const opened = subscribers.map((s) => s.open(Math.max(0, s.last - BACK)));
      herd.push(...(await Promise.all(opened.map((o) => o.first))));
      herdHead.push(...(await Promise.all(opened.map((o) => o.head))));
      await waitFor("the replays", () => subscribers.every((s) => s.last >= end));
      progress(`reconnect, all at once, round ${round + 1}/${ROUNDS}: p99 ${summarize(herd).p99_ms} ms`);
      await sleep(100);
    }
    const herdServer = reconnectProbe(await hangar.probe());

    // (b') reconnects, one subscriber at a time
    const single: number[] = [];
    const singleHead: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of subscribers) {
        const opened = s.open(Math.max(0, s.last - BACK));
        single.push(await opened.first);
        singleHead.push(await opened.head);
        await waitFor("the replay", () => s.last >= end);
      }
      progress(`reconnect, one at a time, round ${round + 1}/${ROUNDS}: p99 ${summarize(single).p99_ms} ms`);
    }
    const singleServer = reconnectProbe(await hangar.probe());
    const reconnect = {
      replay_back: BACK,
      all_at_once: { to_first_frame: summarize(herd), to_headers: summarize(herdHead), server: herdServer },
      one_at_a_time: {
        to_first_frame: summarize(single),
        to_headers: summarize(singleHead),
        server: singleServer,
      },
      gaps: subscribers.reduce((n, s) => n + s.gaps, 0) - fanout.gaps,
    };
    return { session_events_at_end: end, fanout, reconnect };
  } finally {
    for (const s of subscribers) s.close();
  }
}

async function main() {
  const db = envDb();
  const info = machine();
  progress(`${SUBSCRIBERS} subscribers, ${TURNS} turns, ${ROUNDS} reconnect rounds, database ${db}`);
  const hangar = await startHangar({ db, probe: PROBE });
  let result: Awaited<ReturnType<typeof run>>;
  try {
    result = await run(hangar);
  } finally {
    await hangar.stop();
  }
  writeResult("events", {
    bench: "events",
    machine: info,
    database: db,
    harness: HARNESS,
    subscribers: SUBSCRIBERS,
    turns: TURNS,
    text: TEXT,
    probe: PROBE,
    notes:
      "latencies in ms, nearest-rank percentiles; `at` has 1 ms resolution (truncated), which adds " +
      "0–1 ms to every fan-out figure",
    targets: TARGETS,
    ...result,
    met: {
      fanout_p99: result.fanout.latency.p99_ms <= TARGETS.fanout_p99_ms_max,
      reconnect_all_at_once_p99:
        result.reconnect.all_at_once.to_first_frame.p99_ms <= TARGETS.reconnect_p99_ms_max,
      reconnect_one_at_a_time_p99:
        result.reconnect.one_at_a_time.to_first_frame.p99_ms <= TARGETS.reconnect_p99_ms_max,
    },
  });
}

await main();
