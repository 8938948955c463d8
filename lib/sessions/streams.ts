import type { SseFrame } from "@/lib/api/sse";
import type { SessionEvent } from "@/lib/schemas/session";

import { markActive } from "./activity";
import { subscribe } from "./events";

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
): AsyncGenerator<SseFrame> {
  void markActive(sessionId).catch(() => undefined);
  const keepAlive = setInterval(() => void markActive(sessionId).catch(() => undefined), TOUCH_EVERY_MS);
  try {
    for await (const event of subscribe(sessionId, after, signal, until)) {
      yield { id: event.seq, event: event.type, data: event };
    }
  } finally {
    clearInterval(keepAlive);
  }
}
