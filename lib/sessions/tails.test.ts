import { describe, expect, it } from "vitest";

import type { SessionEvent } from "@/lib/schemas/session";

import { Tails } from "./tails";

const at = "2026-12-04T12:00:00.000Z";
const events = (from: number, to: number): SessionEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, type: "assistant_delta", data: {}, at }));
const seqs = (list: SessionEvent[] | null) => list?.map((e) => e.seq) ?? null;

describe("Tails: this process's copy of a session's latest events", () => {
  it("answers for any resume point inside its run, up to a limit, and nothing after its end", () => {
    const tails = new Tails();
    tails.committed("s", events(1, 3));
    tails.committed("s", events(4, 6));
    expect(seqs(tails.after("s", 0, 100))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seqs(tails.after("s", 4, 100))).toEqual([5, 6]);
    expect(seqs(tails.after("s", 1, 2))).toEqual([2, 3]);
    expect(seqs(tails.after("s", 6, 100))).toEqual([]);
    expect(tails.after("other", 0, 100)).toBeNull();
  });

  it("restarts its run after a gap (another process appended), and cannot answer before it", () => {
    const tails = new Tails();
    tails.committed("s", events(1, 3));
    tails.committed("s", events(7, 8)); // 4..6 were appended elsewhere
    expect(tails.after("s", 2, 100)).toBeNull();
    expect(tails.after("s", 5, 100)).toBeNull();
    expect(seqs(tails.after("s", 6, 100))).toEqual([7, 8]);
  });

  it("refuses once another process is known to have committed past its end", () => {
    const tails = new Tails();
    tails.committed("s", events(1, 3));
    tails.committedElsewhere("s", 4);
    expect(tails.after("s", 0, 100)).toBeNull();
    // Its NOTIFY was heard before this process's own earlier append resolved: still refused.
    const racing = new Tails();
    racing.committedElsewhere("s", 9);
    racing.committed("s", events(7, 8));
    expect(racing.after("s", 6, 100)).toBeNull();
    // A NOTIFY without a seq counts as "something newer".
    const vague = new Tails();
    vague.committed("s", events(1, 2));
    vague.committedElsewhere("s", Number.NaN);
    expect(vague.after("s", 0, 100)).toBeNull();
    // Once this process appends after it, the run (from there) answers again.
    tails.committed("s", events(5, 5));
    expect(seqs(tails.after("s", 4, 100))).toEqual([5]);
    expect(tails.after("s", 3, 100)).toBeNull();
  });

  it("keeps a bounded run: the oldest events drop, and resuming before them goes to the log", () => {
    const tails = new Tails();
    for (let seq = 1; seq <= 1_500; seq += 100) tails.committed("s", events(seq, seq + 99));
    expect(tails.after("s", 0, 10)).toBeNull();
    expect(seqs(tails.after("s", 1_500 - 1_000, 2))).toEqual([501, 502]);
    const big = new Tails();
    const huge = (seq: number): SessionEvent => ({
      seq,
      type: "tool_result",
      data: { output: "x".repeat(3 << 20) },
      at,
    });
    big.committed("s", [huge(1)]);
    big.committed("s", [huge(2)]);
    expect(big.after("s", 0, 10)).toBeNull();
    expect(seqs(big.after("s", 1, 10))).toEqual([2]);
  });

  it("formats and encodes an event's frame once, whoever asks", () => {
    const tails = new Tails();
    const [event] = events(7, 7);
    const frame = tails.frame(event!);
    expect(frame.toString()).toBe(`id: 7\nevent: assistant_delta\ndata: ${JSON.stringify(event)}\n\n`);
    expect(tails.frame(event!)).toBe(frame);
  });
});
