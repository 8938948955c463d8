"use client";

import { useEffect, useEffectEvent, useState, useSyncExternalStore } from "react";

import { eventsUrl, fetchThread } from "@/lib/api-client/sessions";
import type { SessionEvent } from "@/lib/schemas/session";
import { SESSION_EVENT_TYPES, type ThreadMessage } from "@/lib/schemas/session-event";
import { emptyThread, foldEvent, type Thread } from "@/lib/thread";

/**
 * idle: not following (an ended session) · connecting: first connection · live: events arrive as
 * they happen · reconnecting: the stream dropped and is being reopened.
 */
export type Connection = "idle" | "connecting" | "live" | "reconnecting";

/** The last `stalled` event of a turn; it stands while no later event touched the message. */
export type Stall = { messageId: string; seq: number; quietMs: number };

export type ThreadState = {
  thread: Thread;
  /** Bumped on every change: `thread` and its messages are folded in place. */
  version: number;
  loaded: boolean;
  loadError: string | null;
  connection: Connection;
  stall: Stall | null;
};

// A stream the server closed for good (an error status) is reopened after this long.
const REOPEN_MS = 2000;

/**
 * The browser's copy of a session's thread: GET /messages, then the event stream from its last
 * seq, every event folded with lib/thread's foldEvent (which ignores seqs it already has, so a
 * reconnect neither loses nor repeats anything). Renders are coalesced to one per frame.
 */
class ThreadStore {
  private state: ThreadState;
  private listeners = new Set<() => void>();
  private frame: number | null = null;

  constructor(sessionId: string, model: string) {
    this.state = {
      thread: emptyThread(sessionId, model),
      version: 0,
      loaded: false,
      loadError: null,
      connection: "idle",
      stall: null,
    };
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = () => this.state;

  get lastSeq() {
    return this.state.thread.lastSeq;
  }

  update(patch: Partial<ThreadState>, now = true) {
    this.state = { ...this.state, ...patch, version: this.state.version + 1 };
    if (now) this.emit();
    else this.frame ??= requestAnimationFrame(() => this.emit());
  }

  private emit() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    for (const listener of this.listeners) listener();
  }

  load(messages: ThreadMessage[], lastSeq: number) {
    const { sessionId, model } = this.state.thread;
    this.update({
      thread: { sessionId, model, messages, lastSeq },
      loaded: true,
      loadError: null,
      stall: null,
    });
  }

  fold(event: SessionEvent) {
    const { thread } = this.state;
    if (event.seq <= thread.lastSeq) return;
    foldEvent(thread, event);
    const d = event.data;
    const stall =
      event.type === "stalled" && typeof d.message_id === "string"
        ? { messageId: d.message_id, seq: event.seq, quietMs: Number(d.quiet_ms) || 0 }
        : this.state.stall;
    this.update({ stall }, false);
  }

  dispose() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
  }
}

/**
 * Loads a session's thread and, while `follow` is on, keeps it live over SSE. `onLifecycle` hears the
 * session's lifecycle events (status, phase), so the caller can re-read the session itself.
 */
export function useSessionThread({
  sessionId,
  model,
  follow,
  onLifecycle,
}: {
  sessionId: string;
  model: string;
  follow: boolean;
  onLifecycle?: (event: SessionEvent) => void;
}): ThreadState {
  const [store] = useState(() => new ThreadStore(sessionId, model));
  const lifecycle = useEffectEvent((event: SessionEvent) => onLifecycle?.(event));

  useEffect(() => {
    const aborted = new AbortController();
    let source: EventSource | null = null;
    let reopen: ReturnType<typeof setTimeout> | undefined;

    const onFrame = (e: MessageEvent<string>) => {
      let event: SessionEvent;
      try {
        event = JSON.parse(e.data) as SessionEvent;
      } catch {
        return;
      }
      store.fold(event);
      if (event.type === "status" || event.type === "phase" || event.type === "recovered") {
        lifecycle(event);
      }
    };

    const open = (connection: Connection) => {
      if (aborted.signal.aborted) return;
      store.update({ connection });
      // EventSource reconnects by itself and sends Last-Event-ID, which the server prefers to ?after.
      const es = new EventSource(eventsUrl(sessionId, store.lastSeq));
      source = es;
      es.onopen = () => store.update({ connection: "live" });
      es.onerror = () => {
        if (es.readyState === EventSource.CLOSED) {
          // An error status (a restarting server, say) ends an EventSource for good: open a new one.
          es.close();
          reopen = setTimeout(() => open("reconnecting"), REOPEN_MS);
        }
        store.update({ connection: "reconnecting" });
      };
      for (const type of SESSION_EVENT_TYPES) es.addEventListener(type, onFrame);
    };

    const start = async () => {
      try {
        const { messages, lastSeq } = await fetchThread(sessionId, aborted.signal);
        store.load(messages, lastSeq);
      } catch (err) {
        if (aborted.signal.aborted) return;
        store.update({ loadError: (err as Error).message });
        if (!follow) return;
        reopen = setTimeout(() => void start(), REOPEN_MS);
        return;
      }
      if (follow) open("connecting");
      else store.update({ connection: "idle" });
    };
    void start();

    return () => {
      aborted.abort();
      clearTimeout(reopen);
      source?.close();
      store.dispose();
    };
  }, [store, sessionId, follow]);

  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** The message of the running turn: the last assistant message, while it has not completed. */
export function runningMessage(messages: ThreadMessage[]): ThreadMessage | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.info.role === "assistant") return m.info.time.completed === undefined ? m : null;
  }
  return null;
}
