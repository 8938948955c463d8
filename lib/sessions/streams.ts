import type { SseChunk } from "@/lib/api/sse";
import type { SessionEvent } from "@/lib/schemas/session";

import { markActive } from "./activity";
import { eventFrame, subscribeRuns } from "./events";

const TOUCH_EVERY_MS = 10_000;

/**
 * A session's events as SSE frames (`id: <seq>`, `event: <type>`), from `after` on, until `until`
 * matches or the client leaves. An open stream counts as use of the session for the idle reaper.
 */
export async function* sessionFrames(
  sessionId: string,
  after: number,
  signal: AbortSignal,
  until?: (event: SessionEvent) => boolean,
): AsyncGenerator<SseChunk> {
  void markActive(sessionId).catch(() => undefined);
  const keepAlive = setInterval(() => void markActive(sessionId).catch(() => undefined), TOUCH_EVERY_MS);
  try {
    // A run of events goes out as one write; each frame's bytes are shared by every stream sending it.
    for await (const run of subscribeRuns(sessionId, after, signal, until)) {
      yield run.length === 1 ? eventFrame(run[0]!) : Buffer.concat(run.map(eventFrame));
    }
  } finally {
    clearInterval(keepAlive);
  }
}
