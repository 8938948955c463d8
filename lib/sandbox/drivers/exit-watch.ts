import fs from "node:fs";

import { log } from "@/lib/log";

import { sessionPaths } from "../layout";
import type { SandboxRecord } from "./records";
import { isRunning } from "./sandbox-procs";

/*
 * Noticing that a supervised sandbox ended by an event, not a poll. The supervisor writes the exit
 * code of the sandboxed command to run/exit-code right after it returns, and the launch leaves that
 * file there empty beforehand, so inotify can watch the file itself: one watch per sandbox, on a file
 * only the supervisor writes (the sandbox's own output goes elsewhere and never wakes the host).
 */

/** Once the code is written the supervisor still has to exit: checked again after these pauses. */
const SETTLE_STEPS_MS = [5, 10, 20, 50, 100, 200, 500, 1000, 2000];

/**
 * Calls `onExit` once, when the sandbox of `record` is seen gone after its exit code was written (or
 * was already gone when the watch began). Null when the file cannot be watched (no inotify watch
 * left): the caller then checks on a timer.
 */
export function watchExitCode(record: SandboxRecord, onExit: () => void): { close: () => void } | null {
  const file = sessionPaths(record.sessionDir).exitCode;
  let watcher: fs.FSWatcher;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const close = () => {
    closed = true;
    clearTimeout(timer);
    watcher.close();
  };
  const check = (step: number) => {
    if (closed) return;
    clearTimeout(timer);
    if (!isRunning(record)) {
      close();
      onExit();
    } else if (step < SETTLE_STEPS_MS.length) {
      timer = setTimeout(() => check(step + 1), SETTLE_STEPS_MS[step]);
    }
  };
  try {
    // A sandbox an older Hangar launched has no such file until it ends: made now, never truncated
    // (a code written meanwhile stays), and not through a link.
    const { O_WRONLY, O_CREAT, O_APPEND, O_NOFOLLOW } = fs.constants;
    fs.closeSync(fs.openSync(file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o600));
    watcher = fs.watch(file, { persistent: false }, () => check(0));
  } catch (err) {
    log.warn("cannot watch a sandbox's exit", { sessionId: record.sessionId, err });
    return null;
  }
  watcher.on("error", (err) => {
    // The caller's slow check still notices the exit.
    log.warn("the watch of a sandbox's exit failed", { sessionId: record.sessionId, err });
    close();
  });
  // It may have ended before the watch began.
  setImmediate(() => check(SETTLE_STEPS_MS.length));
  return { close };
}
