import type { Reply } from "./handler";

/*
 * Server-sent events. Every frame of a session stream carries `id: <seq>`, so a client that
 * reconnects with Last-Event-ID (or ?after=) resumes exactly after the last frame it saw. A comment
 * line every 15 s keeps proxies and clients from timing the connection out.
 */

export const HEARTBEAT_MS = 15_000;

export type SseFrame = { id?: number | string; event?: string; data: unknown };
/** A frame, or frames already formatted and encoded (bytes a stream writes as they are). */
export type SseChunk = SseFrame | Uint8Array;

export function formatSse(frame: SseFrame): string {
  const data = typeof frame.data === "string" ? frame.data : JSON.stringify(frame.data);
  let out = "";
  if (frame.id !== undefined) out += `id: ${frame.id}\n`;
  if (frame.event) out += `event: ${frame.event}\n`;
  for (const line of data.split("\n")) out += `data: ${line}\n`;
  return out + "\n";
}

/** Frames as text, with a heartbeat comment whenever the source is quiet for `heartbeatMs`. */
export async function* withHeartbeats(
  frames: AsyncIterable<SseChunk>,
  signal: AbortSignal,
  heartbeatMs = HEARTBEAT_MS,
): AsyncGenerator<string | Uint8Array> {
  const iterator = frames[Symbol.asyncIterator]();
  // The retry hint makes EventSource reconnect after 1 s rather than its default 3 s.
  yield "retry: 1000\n\n";
  let pending: Promise<IteratorResult<SseChunk>> | null = null;
  // One timer per stream, pushed back by every frame (a stream may carry thousands a second).
  let beatDue = false;
  let onBeat: (() => void) | null = null;
  const timer = setTimeout(() => {
    beatDue = true;
    onBeat?.();
  }, heartbeatMs);
  try {
    while (!signal.aborted) {
      if (beatDue) {
        beatDue = false;
        timer.refresh();
        yield `: heartbeat ${new Date().toISOString()}\n\n`;
        continue;
      }
      const next = (pending ??= iterator.next());
      const result = await new Promise<IteratorResult<SseChunk> | "beat">((resolve, reject) => {
        onBeat = () => resolve("beat");
        next.then(resolve, reject);
      });
      onBeat = null;
      if (result === "beat") continue;
      pending = null;
      if (result.done) return;
      timer.refresh();
      yield result.value instanceof Uint8Array ? result.value : formatSse(result.value);
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
}

export function sseReply(frames: AsyncIterable<SseChunk>, signal: AbortSignal, status = 200): Reply {
  return {
    status,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      connection: "keep-alive",
    },
    stream: withHeartbeats(frames, signal),
  };
}

/** Where a client resumes: Last-Event-ID wins over ?after=, since a browser's EventSource sends it. */
export function resumePoint(lastEventId: string | null, after: number | undefined): number {
  const fromHeader = lastEventId !== null ? Number.parseInt(lastEventId, 10) : Number.NaN;
  if (Number.isInteger(fromHeader) && fromHeader >= 0) return fromHeader;
  return after ?? 0;
}
