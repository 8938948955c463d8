import { describe, expect, it, vi } from "vitest";

import type { SessionEvent } from "@/lib/schemas/session";

/*
 * The log's delivery rules, with the database replaced by an array whose writes the test commits by
 * hand (PostgreSQL's and PGlite's own behaviour is in db/queries/session-events.test.ts and the
 * e2e event-replay tests): nothing reaches a subscriber or resolves an append before its commit, and
 * every subscriber gets every event once, in order, whether its backlog comes from this process's
 * copy of the latest events or from the database, with another process appending in between.
 */

const fake = vi.hoisted(() => {
  const state = {
    rows: new Map<string, SessionEvent[]>(),
    /** While set, appends wait for it: the write is in flight, not committed. */
    gate: null as Promise<void> | null,
    /** While set, a committed append's answer waits for it (the reply is on its way back). */
    answerGate: null as Promise<void> | null,
    reads: 0,
    notify: null as ((payload: string) => void) | null,
  };
  const log = (id: string) => {
    let rows = state.rows.get(id);
    if (!rows) state.rows.set(id, (rows = []));
    return rows;
  };
  return { state, log };
});

vi.mock("@/db/queries/sessions", () => ({
  EVENTS_CHANNEL: "events",
  appendSessionEvents: async (id: string, items: { type: string; data: Record<string, unknown> }[]) => {
    await fake.state.gate;
    const rows = fake.log(id);
    const added = items.map((item, i) => ({
      seq: rows.length + 1 + i,
      type: item.type,
      data: structuredClone(item.data),
      at: new Date().toISOString(),
    }));
    rows.push(...added);
    await fake.state.answerGate;
    return added.map((e) => ({ ...e, data: structuredClone(e.data) }));
  },
  listSessionEvents: async (id: string, after: number, limit: number) => {
    fake.state.reads++;
    return structuredClone(
      fake
        .log(id)
        .filter((e) => e.seq > after)
        .slice(0, limit),
    );
  },
  latestSessionEventSeq: async (id: string) => fake.log(id).length,
}));

vi.mock("@/lib/runtime", () => ({
  runtime: () => ({
    listen: async (_channel: string, onPayload: (payload: string) => void) => {
      fake.state.notify = onPayload;
      return async () => {};
    },
  }),
}));

const { appendEvent, readEvents, subscribe } = await import("./events");

/** Another Hangar process appends: the row is in the database, then its NOTIFY arrives. */
function appendElsewhere(id: string, n: number) {
  const rows = fake.log(id);
  for (let i = 0; i < n; i++)
    rows.push({ seq: rows.length + 1, type: "egress_denied", data: { n: i }, at: new Date().toISOString() });
  fake.state.notify?.(`${id} ${rows.length} other-process`);
}

/** Reads a subscription in the background; `upTo(seq)` waits until it has delivered that seq. */
function collect(id: string, after: number) {
  const controller = new AbortController();
  const seen: SessionEvent[] = [];
  const waiters: (() => void)[] = [];
  void (async () => {
    for await (const event of subscribe(id, after, controller.signal)) {
      seen.push(event);
      for (const wake of waiters.splice(0)) wake();
    }
  })();
  return {
    seen,
    seqs: () => seen.map((e) => e.seq),
    upTo: async (seq: number) => {
      while ((seen.at(-1)?.seq ?? after) < seq) await new Promise<void>((r) => waiters.push(r));
    },
    close: () => controller.abort(),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("the session event log", () => {
  it("sends an event and resolves its append only once the write committed", async () => {
    const live = collect("s-commit", 0);
    await tick();
    let release!: () => void;
    fake.state.gate = new Promise<void>((r) => (release = r));
    let acknowledged = false;
    const appended = appendEvent("s-commit", "assistant_delta", { text: "a" }).then((e) => {
      acknowledged = true;
      return e;
    });
    await tick();
    expect(fake.log("s-commit")).toHaveLength(0);
    expect(live.seen).toHaveLength(0);
    expect(acknowledged).toBe(false);
    fake.state.gate = null;
    release();
    expect((await appended).seq).toBe(1);
    await live.upTo(1);
    // What the subscriber got is exactly what the database holds.
    expect(live.seen).toEqual(fake.log("s-commit"));
    live.close();
  });

  it("serves a reconnect's backlog from memory when it can, and every event once, in order, when another process appends", async () => {
    const id = "s-burst";
    const first = collect(id, 0);
    for (let i = 0; i < 20; i++) void appendEvent(id, "assistant_delta", { i });
    await first.upTo(20);
    // Reconnects within what this process appended need no read of the database.
    const readsBefore = fake.state.reads;
    const fromMemory = collect(id, 10);
    await fromMemory.upTo(20);
    expect(fake.state.reads).toBe(readsBefore);
    expect(await readEvents(id, 15)).toEqual(fake.log(id).slice(15));
    expect(fake.state.reads).toBe(readsBefore);

    appendElsewhere(id, 5); // 21..25, then this process again
    for (let i = 0; i < 15; i++) void appendEvent(id, "assistant_delta", { i });
    await first.upTo(40);
    // Racing: this process's append (41) committed, and another process's NOTIFY (42) is heard
    // before the answer to that append: this process's copy ends at 41 and must not vouch for 42.
    let answer!: () => void;
    fake.state.answerGate = new Promise<void>((r) => (answer = r));
    const own = appendEvent(id, "turn_complete", {});
    await tick();
    appendElsewhere(id, 1);
    fake.state.answerGate = null;
    answer();
    expect((await own).seq).toBe(41);
    const late = [0, 10, 22, 30, 40].map((after) => ({ after, sub: collect(id, after) }));
    for (const { sub } of [...late, { sub: first }, { sub: fromMemory }]) await sub.upTo(42);
    expect(first.seqs()).toEqual(range(1, 42));
    expect(fromMemory.seqs()).toEqual(range(11, 42));
    for (const { after, sub } of late) expect(sub.seqs()).toEqual(range(after + 1, 42));
    for (const { sub } of late) expect(sub.seen).toEqual(fake.log(id).slice(sub.seen[0]!.seq - 1));
    for (const { sub } of [...late, { sub: first }, { sub: fromMemory }]) sub.close();
  });

  it("keeps appends to one session in call order, batching those made while a write is in flight", async () => {
    const id = "s-order";
    let release!: () => void;
    fake.state.gate = new Promise<void>((r) => (release = r));
    const appends = range(1, 30).map((i) => appendEvent(id, "assistant_delta", { i }));
    await tick();
    fake.state.gate = null;
    release();
    const events = await Promise.all(appends);
    expect(events.map((e) => e.seq)).toEqual(range(1, 30));
    expect(events.map((e) => e.data.i)).toEqual(range(1, 30));
  });
});
