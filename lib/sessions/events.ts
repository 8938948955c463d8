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

/*
 * The session event log and its live fan-out. The database is the single source: a subscriber first
 * reads what it missed, then takes new events as they are appended, and whenever it cannot prove it
 * has every event in order (a gap, or a notification from another process) it reads the log again
 * from the last seq it delivered. Delivery is therefore exactly once and in order, whatever the
 * timing of appends, reconnects and other Hangar processes (PostgreSQL LISTEN/NOTIFY).
 */

type Listener = (event: SessionEvent | null) => void;

type Bus = {
  origin: string;
  listeners: Map<string, Set<Listener>>;
  listening: Promise<void> | null;
};
const bus = processSlot<Bus>("session-events", () => ({
  origin: randomBytes(6).toString("hex"),
  listeners: new Map(),
  listening: null,
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
      const [sessionId, , origin] = payload.split(" ");
      if (sessionId && origin !== bus.origin) publish(sessionId, null);
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

/** Per session: events waiting for the append in flight. One transaction writes each batch. */
const queues = new Map<string, Pending[]>();

async function drain(sessionId: string, queue: Pending[]) {
  const notify = runtime().listen ? bus.origin : null;
  while (queue.length > 0) {
    const batch = queue.splice(0, 500);
    try {
      const events = await appendSessionEvents(sessionId, batch, notify);
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
 * Appends an event to the session's log and wakes its subscribers here and in other processes.
 * Appends to one session keep their call order; those made while a write is in flight go together
 * in the next transaction, so a burst of output (text deltas) costs a few writes, not one per event.
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

/**
 * Every event of the session after `after`, in order, exactly once: the backlog from the log, then
 * live events, until `signal` aborts (or `until` says an event is the last one wanted).
 */
export async function* subscribe(
  sessionId: string,
  after: number,
  signal: AbortSignal,
  until?: (event: SessionEvent) => boolean,
): AsyncGenerator<SessionEvent> {
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
  try {
    let readLog = true;
    while (!signal.aborted) {
      if (readLog) {
        readLog = false;
        stale = false;
        for (;;) {
          const page = await listSessionEvents(sessionId, last, PAGE);
          for (const event of page) {
            last = event.seq;
            yield event;
            if (until?.(event)) return;
          }
          if (page.length < PAGE) break;
        }
      }
      if (inbox.length > 0) {
        const batch = inbox.splice(0).sort((a, b) => a.seq - b.seq);
        for (const event of batch) {
          if (event.seq <= last) continue;
          // A gap means an append we have not seen yet (appends race): the log has it.
          if (event.seq !== last + 1) {
            readLog = true;
            break;
          }
          last = event.seq;
          yield event;
          if (until?.(event)) return;
        }
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

/** The seq of the session's latest event (0 when it has none). */
export function lastSeq(sessionId: string): Promise<number> {
  return latestSessionEventSeq(sessionId);
}
