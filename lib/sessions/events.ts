import { randomBytes } from "node:crypto";

import {
  appendSessionEvents,
  EVENTS_CHANNEL,
  latestSessionEventSeq,
  listSessionEvents,
} from "@/db/queries/sessions";
import { log } from "@/lib/log";
import { processSlot } from "@/lib/process-slot";
import { runtime } from "@/lib/runtime";
import type { SessionEvent } from "@/lib/schemas/session";
import type { SessionEventType } from "@/lib/schemas/session-event";

import { Tails } from "./tails";

/*
 * The session event log and its live fan-out. The database is the single source: an event reaches
 * a subscriber only after its append committed. A subscriber first reads what it missed, then takes
 * new events as they are appended, and whenever it cannot prove it has every event in order (a gap,
 * or a notification from another process) it reads again from the last seq it delivered. Delivery is
 * therefore exactly once and in order, whatever the timing of appends, reconnects and other Hangar
 * processes (PostgreSQL LISTEN/NOTIFY).
 *
 * "Reads" come from the database or from this process's copy of each session's latest committed
 * events (`Tails`), which serves a reconnect's replay and a turn's reply without a query whenever it
 * provably holds everything after the resume point (see tails.ts).
 */

type Listener = (event: SessionEvent | null) => void;

type Bus = {
  origin: string;
  listeners: Map<string, Set<Listener>>;
  listening: Promise<void> | null;
  tails: Tails;
};
const bus = processSlot<Bus>("session-events", () => ({
  origin: randomBytes(6).toString("hex"),
  listeners: new Map(),
  listening: null,
  tails: new Tails(),
}));

function publish(sessionId: string, event: SessionEvent | null) {
  for (const listener of bus.listeners.get(sessionId) ?? []) listener(event);
}

/** Subscribes this process to other processes' appends (PostgreSQL only; PGlite is single-process). */
function listenAcrossProcesses(): Promise<void> {
  bus.listening ??= (async () => {
    const listen = runtime().listen;
    if (!listen) return;
    await listen(EVENTS_CHANNEL, (payload) => {
      const [sessionId, last, origin] = payload.split(" ");
      if (!sessionId || origin === bus.origin) return;
      bus.tails.committedElsewhere(sessionId, Number(last));
      publish(sessionId, null);
    });
  })().catch((err: unknown) => {
    bus.listening = null;
    log.error("could not LISTEN for session events", { err });
  });
  return bus.listening;
}

type Pending = {
  type: SessionEventType;
  data: Record<string, unknown>;
  resolve: (event: SessionEvent) => void;
  reject: (err: unknown) => void;
};

/** Per session: events waiting for the append in flight. One statement writes each batch. */
const queues = new Map<string, Pending[]>();

async function drain(sessionId: string, queue: Pending[]) {
  const notify = runtime().listen ? bus.origin : null;
  while (queue.length > 0) {
    const batch = queue.splice(0, 500);
    try {
      const events = await appendSessionEvents(sessionId, batch, notify);
      // Committed: remembered and published in one synchronous step, so a subscriber registering at
      // any moment either finds an event in the tail or receives it.
      bus.tails.committed(sessionId, events);
      events.forEach((event, i) => {
        publish(sessionId, event);
        batch[i]!.resolve(event);
      });
    } catch (err) {
      for (const item of batch) item.reject(err);
    }
  }
  queues.delete(sessionId);
}

/**
 * Appends an event to the session's log and wakes its subscribers here and in other processes; the
 * promise resolves once the event is committed. Appends to one session keep their call order; those
 * made while a write is in flight go together in the next statement, so a burst of output (text
 * deltas) costs a few writes, not one per event.
 */
export function appendEvent(
  sessionId: string,
  type: SessionEventType,
  data: Record<string, unknown> = {},
): Promise<SessionEvent> {
  return new Promise((resolve, reject) => {
    const queue = queues.get(sessionId);
    if (queue) return void queue.push({ type, data, resolve, reject });
    const fresh: Pending[] = [{ type, data, resolve, reject }];
    queues.set(sessionId, fresh);
    void drain(sessionId, fresh);
  });
}

const PAGE = 500;

/** Up to a page of the session's events after `after`: from the tail when it has them all, else the log. */
function readAfter(sessionId: string, after: number): Promise<SessionEvent[]> | SessionEvent[] {
  return bus.tails.after(sessionId, after, PAGE) ?? listSessionEvents(sessionId, after, PAGE);
}

/** Every event of the session after `after`, in order, as far as this process knows them now. */
export async function readEvents(sessionId: string, after: number): Promise<SessionEvent[]> {
  const all: SessionEvent[] = [];
  for (let last = after; ;) {
    const page = await readAfter(sessionId, last);
    all.push(...page);
    if (page.length < PAGE) return all;
    last = page.at(-1)!.seq;
  }
}

/**
 * Every event of the session after `after`, in order, exactly once: the backlog, then live events,
 * until `signal` aborts (or `until` says an event is the last one wanted). Events come in runs (a
 * page of the backlog, the live events that arrived together), so a consumer can write each run at
 * once.
 */
export async function* subscribeRuns(
  sessionId: string,
  after: number,
  signal: AbortSignal,
  until?: (event: SessionEvent) => boolean,
): AsyncGenerator<SessionEvent[]> {
  await listenAcrossProcesses();
  const inbox: SessionEvent[] = [];
  let stale = false;
  let wake: (() => void) | null = null;
  const listener: Listener = (event) => {
    if (event) inbox.push(event);
    else stale = true;
    wake?.();
  };
  // Registered before the first read, so nothing appended meanwhile can be missed.
  let set = bus.listeners.get(sessionId);
  if (!set) bus.listeners.set(sessionId, (set = new Set()));
  set.add(listener);
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  let last = after;
  /** The run up to `until`'s event, if any; `ended` says whether it was there. */
  let ended = false;
  const upToEnd = (run: SessionEvent[]) => {
    const end = until ? run.findIndex(until) : -1;
    ended = end >= 0;
    return ended ? run.slice(0, end + 1) : run;
  };
  try {
    let readLog = true;
    while (!signal.aborted) {
      if (readLog) {
        readLog = false;
        stale = false;
        for (;;) {
          const page = await readAfter(sessionId, last);
          const run = upToEnd(page);
          if (run.length > 0) {
            last = run.at(-1)!.seq;
            yield run;
          }
          if (ended) return;
          if (page.length < PAGE) break;
        }
      }
      if (inbox.length > 0) {
        const arrived = inbox.splice(0).sort((a, b) => a.seq - b.seq);
        const run: SessionEvent[] = [];
        for (const event of arrived) {
          if (event.seq <= last + run.length) continue;
          // A gap means an append we have not seen yet (appends race): the log has it.
          if (event.seq !== last + run.length + 1) {
            readLog = true;
            break;
          }
          run.push(event);
        }
        const delivered = upToEnd(run);
        if (delivered.length > 0) {
          last = delivered.at(-1)!.seq;
          yield delivered;
        }
        if (ended) return;
        continue;
      }
      if (stale) {
        readLog = true;
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    set.delete(listener);
    if (set.size === 0) bus.listeners.delete(sessionId);
  }
}

/** subscribeRuns, one event at a time. */
export async function* subscribe(
  sessionId: string,
  after: number,
  signal: AbortSignal,
  until?: (event: SessionEvent) => boolean,
): AsyncGenerator<SessionEvent> {
  for await (const run of subscribeRuns(sessionId, after, signal, until)) yield* run;
}

/** The seq of the session's latest event (0 when it has none). */
export function lastSeq(sessionId: string): Promise<number> {
  return latestSessionEventSeq(sessionId);
}

/** An event's SSE frame (`id: <seq>`, `event: <type>`), encoded once however many streams send it. */
export function eventFrame(event: SessionEvent): Buffer {
  return bus.tails.frame(event);
}
