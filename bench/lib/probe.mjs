/*
 * Bench-only instrumentation, loaded into a Hangar server started by a benchmark through
 * NODE_OPTIONS=--import (never by Hangar itself). It changes no behaviour; it records timings from the
 * outside of Hangar's code:
 *
 * - every database transaction (drizzle `db.transaction`) and every query outside one (drizzle
 *   `session.prepareQuery(...).execute/all`), wall time from call to settle;
 * - for each appended event, when its append (one statement, or a transaction returning events)
 *   committed (keyed by seq and `at`);
 * - for every server-sent-event frame written: the write's own (synchronous) time, `at` → write,
 *   commit → write, write → the uncork that sends the bytes (Node's, on the next tick, or Hangar's), and
 *   per SSE response: request arrival → headers → first frame;
 * - event loop utilization and delay.
 *
 * SIGUSR2 writes everything recorded since the last dump to $BENCH_PROBE_OUT (JSON) and starts over.
 * Plain JavaScript: it loads before tsx's loader. Inert unless BENCH_PROBE_OUT is set.
 */
import fs from "node:fs";
import http from "node:http";
import { Session } from "node:inspector";
import net from "node:net";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

const OUT = process.env.BENCH_PROBE_OUT;

if (OUT && process.argv.some((arg) => arg.endsWith("server.ts"))) {
  const wall = () => performance.timeOrigin + performance.now();
  const fresh = () => ({
    started: wall(),
    tx: [],
    queries: [],
    by_sql: {},
    sse_write_ms: [],
    write_to_flush_ms: [],
    last_write_to_flush_ms: [],
    tx_while_flush_pending: 0,
    at_to_write_ms: [],
    commit_to_write_ms: [],
    append_tx_ms: [],
    first_frame: [],
  });
  let rec = fresh();
  // How busy and how late the server's event loop was (PGlite runs its queries on it, in WASM).
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  let elu = performance.eventLoopUtilization();
  /** SSE frames written but not yet flushed (Node uncorks on the next tick), and the latest write. */
  let unflushed = 0;
  let lastWrite = 0;
  /** Commit time of each appended event, `${seq}|${at}` → ms since the epoch (bounded). */
  const commits = new Map();

  /** "select sessions", "update sessions"…: the statement's verb and first table. */
  const sqlLabel = (text) => {
    if (typeof text !== "string") return "?";
    const verb = /^\s*(\w+)/.exec(text)?.[1]?.toLowerCase() ?? "?";
    const table = /\b(?:from|into|update)\s+"?(\w+)"?/i.exec(text)?.[1] ?? "?";
    return `${verb} ${table}`;
  };

  const wrapDb = (db) => {
    if (!db || db.__benchProbe) return;
    db.__benchProbe = true;
    const transaction = db.transaction.bind(db);
    db.transaction = (fn, config) => {
      const t0 = wall();
      if (unflushed > 0) rec.tx_while_flush_pending++;
      return transaction(fn, config).then(
        (value) => {
          const t1 = wall();
          rec.tx.push(t1 - t0);
          if (
            value &&
            typeof value === "object" &&
            typeof value.seq === "number" &&
            typeof value.at === "string"
          ) {
            rec.append_tx_ms.push(t1 - t0);
            commits.set(`${value.seq}|${value.at}`, t1);
            if (commits.size > 50_000) commits.delete(commits.keys().next().value);
          }
          return value;
        },
        (err) => {
          rec.tx.push(wall() - t0);
          throw err;
        },
      );
    };
    const session = db.session;
    if (session && typeof session.prepareQuery === "function") {
      const prepare = session.prepareQuery.bind(session);
      session.prepareQuery = (...args) => {
        const prepared = prepare(...args);
        const label = sqlLabel(args[0]?.sql);
        // appendSessionEvents: one statement whose JSON parameter holds the batch.
        const isAppend =
          typeof args[0]?.sql === "string" && args[0].sql.includes('insert into "session_events"');
        const batch = isAppend
          ? (args[0].params ?? []).find((p) => typeof p === "string" && p.startsWith('[{"type"'))
          : null;
        for (const name of ["execute", "all"]) {
          const original = prepared[name];
          if (typeof original !== "function") continue;
          prepared[name] = (...a) => {
            const t0 = wall();
            const done = () => {
              const ms = wall() - t0;
              rec.queries.push(ms);
              const entry = (rec.by_sql[label] ??= { count: 0, total_ms: 0 });
              entry.count++;
              entry.total_ms += ms;
            };
            const result = Promise.resolve(original.apply(prepared, a)).finally(done);
            if (!batch) return result;
            return result.then((value) => {
              const row = (Array.isArray(value) ? value : value?.rows)?.[0];
              if (row && row.first !== undefined && row.at) {
                const t1 = wall();
                rec.append_tx_ms.push(t1 - t0);
                const at = new Date(row.at).toISOString();
                const n = JSON.parse(batch).length;
                for (let i = 0; i < n; i++) commits.set(`${Number(row.first) + i}|${at}`, t1);
                while (commits.size > 50_000) commits.delete(commits.keys().next().value);
              }
              return value;
            });
          };
        }
        return prepared;
      };
    }
  };

  // Hangar keeps its database client in a process-wide slot (db/client.ts); catch it when it is set.
  const SLOT = Symbol.for("hangar.db");
  const slot = (globalThis[SLOT] ??= {});
  let dbValue = slot.db;
  Object.defineProperty(slot, "db", {
    configurable: true,
    enumerable: true,
    get: () => dbValue,
    set: (db) => {
      dbValue = db;
      try {
        wrapDb(db);
      } catch (err) {
        process.stderr.write(`bench probe: could not wrap the database: ${err}\n`);
      }
    },
  });

  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (event, ...args) {
    if (event === "request" && args[1]) args[1].__benchArrived = wall();
    return emit.call(this, event, ...args);
  };

  const writeHead = http.ServerResponse.prototype.writeHead;
  http.ServerResponse.prototype.writeHead = function (...args) {
    const headers = args.find((a) => a && typeof a === "object");
    const type = headers ? (headers["content-type"] ?? headers["Content-Type"]) : undefined;
    if (typeof type === "string" && type.startsWith("text/event-stream")) {
      this.__benchSse = { head: wall(), firstFrame: false };
    }
    return writeHead.apply(this, args);
  };

  // When the bytes of corked SSE writes leave: the uncork that brings the socket's count to zero.
  const uncork = net.Socket.prototype.uncork;
  net.Socket.prototype.uncork = function (...args) {
    const result = uncork.apply(this, args);
    const pending = this.__benchPending;
    if (pending?.length && !(this.writableCorked > 0)) {
      const t = wall();
      for (const { t0, r } of pending) {
        unflushed--;
        r.write_to_flush_ms.push(t - t0);
        r.last_write_to_flush_ms.push(t - lastWrite);
      }
      this.__benchPending = [];
    }
    return result;
  };

  const write = http.ServerResponse.prototype.write;
  http.ServerResponse.prototype.write = function (chunk, ...rest) {
    const sse = this.__benchSse;
    if (!sse) return write.call(this, chunk, ...rest);
    const t0 = wall();
    const ok = write.call(this, chunk, ...rest);
    const t1 = wall();
    const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : "";
    // A chunk may hold several frames (a run of events written at once): each is timed.
    const frames = text.split("\n\n").filter((f) => /^id: \d+/.test(f));
    if (frames.length === 0) return ok;
    const socket = this.socket;
    for (const frame of frames) {
      rec.sse_write_ms.push((t1 - t0) / frames.length);
      // Node corks the socket on write and uncorks on the next tick, unless Hangar uncorks first.
      if (socket?.writableCorked > 0) {
        unflushed++;
        lastWrite = t0;
        (socket.__benchPending ??= []).push({ t0, r: rec });
      } else {
        rec.write_to_flush_ms.push(t1 - t0);
        rec.last_write_to_flush_ms.push(0);
      }
      const atIndex = frame.lastIndexOf('"at":"');
      if (atIndex < 0) continue;
      const at = frame.slice(atIndex + 6, frame.indexOf('"', atIndex + 6));
      const atMs = Date.parse(at);
      if (Number.isFinite(atMs)) rec.at_to_write_ms.push(t0 - atMs);
      const committed = commits.get(`${/^id: (\d+)/.exec(frame)[1]}|${at}`);
      if (committed !== undefined) rec.commit_to_write_ms.push(t0 - committed);
    }
    if (!sse.firstFrame) {
      sse.firstFrame = true;
      const arrived = this.__benchArrived;
      rec.first_frame.push({
        arrival_to_head_ms: arrived === undefined ? null : sse.head - arrived,
        head_to_first_ms: t0 - sse.head,
      });
    }
    return ok;
  };

  const dump = () => {
    const used = performance.eventLoopUtilization(elu);
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    const out = {
      ...rec,
      ended: wall(),
      event_loop: {
        utilization: Math.round(used.utilization * 1000) / 1000,
        delay_p50_ms: ms(loopDelay.percentile(50)),
        delay_p99_ms: ms(loopDelay.percentile(99)),
        delay_max_ms: ms(loopDelay.max),
      },
    };
    rec = fresh();
    elu = performance.eventLoopUtilization();
    loopDelay.reset();
    fs.writeFileSync(`${OUT}.tmp`, JSON.stringify(out));
    fs.renameSync(`${OUT}.tmp`, OUT);
  };
  // BENCH_PROBE_CPU_DIR: a CPU profile of each window between dumps, <dir>/window-<n>.cpuprofile.
  const cpuDir = process.env.BENCH_PROBE_CPU_DIR;
  let profiler = null;
  let windowNo = 0;
  if (cpuDir) {
    fs.mkdirSync(cpuDir, { recursive: true });
    profiler = new Session();
    profiler.connect();
    profiler.post("Profiler.enable", () => profiler.post("Profiler.start"));
  }
  const rotateProfile = () => {
    if (!profiler) return;
    const n = windowNo++;
    profiler.post("Profiler.stop", (err, result) => {
      if (!err) fs.writeFileSync(path.join(cpuDir, `window-${n}.cpuprofile`), JSON.stringify(result.profile));
      profiler.post("Profiler.start");
    });
  };
  process.on("SIGUSR2", () => {
    rotateProfile();
    dump();
  });
  // An empty first dump says the probe is loaded (and SIGUSR2 is safe to send).
  dump();
}
