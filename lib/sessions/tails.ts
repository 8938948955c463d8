import type { SessionEvent } from "@/lib/schemas/session";

/*
 * This process's copy of each session's latest committed events, so a reconnect's replay and a
 * turn's reply need no query. Only events this process appended enter it, after their commit, and
 * only a contiguous run of seqs. It answers for `after` only when it provably holds every event after
 * it: `after` is inside the run, and no seq past the run's end is known to be committed. Known means
 * appended here or announced by another process's NOTIFY (whose payload carries the last seq): an
 * append elsewhere that this process has not heard of yet is no different from one committed just
 * after a read of the database, and its NOTIFY makes the subscriber read again.
 */

const MAX_EVENTS = 1_000;
const MAX_BYTES = 4 << 20;
const MAX_SESSIONS = 256;
/** Sessions whose latest known seq is remembered (a number each), however many have tails. */
const MAX_KNOWN = 100_000;

type Tail = { events: SessionEvent[]; bytes: number };

export class Tails {
  private readonly tails = new Map<string, Tail>();
  private readonly latest = new Map<string, number>();
  private readonly frames = new WeakMap<SessionEvent, Buffer>();

  /** Events this process appended, just committed, in seq order. */
  committed(sessionId: string, events: SessionEvent[]) {
    const first = events[0];
    const last = events.at(-1);
    if (!first || !last) return;
    this.know(sessionId, last.seq);
    let tail = this.tails.get(sessionId);
    this.tails.delete(sessionId); // re-inserted last: the map's order is least recently appended first
    // Someone else appended in between: the run restarts here (the log has the rest).
    if (!tail || tail.events.at(-1)!.seq !== first.seq - 1) tail = { events: [], bytes: 0 };
    for (const event of events) {
      tail.events.push(event);
      tail.bytes += this.frame(event).length;
    }
    while (tail.events.length > MAX_EVENTS || (tail.bytes > MAX_BYTES && tail.events.length > 1)) {
      tail.bytes -= this.frame(tail.events.shift()!).length;
    }
    this.tails.set(sessionId, tail);
    for (const oldest of this.tails.keys()) {
      if (this.tails.size <= MAX_SESSIONS) break;
      this.tails.delete(oldest);
    }
  }

  /** Another process committed the session's events up to `seq` (NaN when it did not say). */
  committedElsewhere(sessionId: string, seq: number) {
    this.know(sessionId, Number.isFinite(seq) ? seq : Infinity);
  }

  /** Up to `limit` events after `after`, or null when this copy cannot prove it has them all. */
  after(sessionId: string, after: number, limit: number): SessionEvent[] | null {
    const events = this.tails.get(sessionId)?.events;
    const first = events?.[0];
    const last = events?.at(-1);
    if (!events || !first || !last) return null;
    if ((this.latest.get(sessionId) ?? 0) > last.seq || after < first.seq - 1) return null;
    const from = Math.max(0, after - first.seq + 1);
    return events.slice(from, from + limit);
  }

  /** The event's SSE frame as bytes, formatted and encoded once per event object. */
  frame(event: SessionEvent): Buffer {
    let bytes = this.frames.get(event);
    if (bytes === undefined) {
      // JSON has no raw newline, so the data is one line.
      bytes = Buffer.from(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      this.frames.set(event, bytes);
    }
    return bytes;
  }

  private know(sessionId: string, seq: number) {
    const known = this.latest.get(sessionId) ?? 0;
    this.latest.delete(sessionId);
    this.latest.set(sessionId, Math.max(known, seq));
    if (this.latest.size <= MAX_KNOWN) return;
    // Forgetting a session's latest seq would let its tail vouch for events it lacks: drop both.
    const oldest = this.latest.keys().next().value as string;
    this.latest.delete(oldest);
    this.tails.delete(oldest);
  }
}
