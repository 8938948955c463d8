import { touchSession } from "@/db/queries/sessions";
import { processSlot } from "@/lib/process-slot";
import { runtime } from "@/lib/runtime";

/*
 * Use of a session (API calls, turns, streams, terminal input) keeps it from the idle reaper. The idle
 * timeout is minutes long, so recording use at most every few seconds per session is exact enough and
 * keeps the hot paths (a turn, a keystroke) from writing the session row each time.
 */

const EVERY_MS = 5_000;

/** Never coarser than a tenth of the idle timeout (tests run with timeouts of seconds). */
function interval(): number {
  return Math.min(EVERY_MS, (runtime().config.HANGAR_IDLE_TIMEOUT_MINUTES * 60_000) / 10);
}
const lastMarked = processSlot("activity", () => new Map<string, number>());

export async function markActive(sessionId: string): Promise<void> {
  const now = Date.now();
  if (now - (lastMarked.get(sessionId) ?? 0) < interval()) return;
  lastMarked.set(sessionId, now);
  if (lastMarked.size > 10_000) lastMarked.clear();
  await touchSession(sessionId);
}
