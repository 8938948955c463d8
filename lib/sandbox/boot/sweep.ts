/*
 * One timer per process for the boot watchers' slow checks (sandboxes whose driver cannot say when
 * they exit, and the safety net for those that can): idle sessions add an entry to a shared tick,
 * never a timer of their own.
 */

const TICK_MS = 1000;

type Entry = { everyMs: number; due: number; run: () => void };

const entries = new Set<Entry>();
let timer: NodeJS.Timeout | null = null;

function tick() {
  const now = Date.now();
  for (const entry of entries) {
    if (now < entry.due) continue;
    entry.due = now + entry.everyMs;
    entry.run();
  }
}

/** Calls `run` about every `everyMs` (to the second) until the returned function is called. */
export function everyFewSeconds(everyMs: number, run: () => void): () => void {
  const entry: Entry = { everyMs, due: Date.now() + everyMs, run };
  entries.add(entry);
  timer ??= setInterval(tick, TICK_MS).unref();
  return () => {
    entries.delete(entry);
    if (entries.size > 0 || !timer) return;
    clearInterval(timer);
    timer = null;
  };
}
