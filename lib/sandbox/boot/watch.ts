import fs from "node:fs";
import path from "node:path";

import { log } from "@/lib/log";

import { HARNESS_SOCKET, sessionPaths } from "../layout";
import type { SandboxDriver } from "../types";
import { harnessAnswers, type ReadyCheck } from "./probe";
import { StatusReader, type StatusLine } from "./status";

/*
 * The boot watcher: follows a sandbox's status lines and the sandbox itself until its session
 * settles, and says what it sees through callbacks. It writes nothing: the session's lifecycle
 * (lib/sessions/launch.ts) records phases and status.
 */

const POLL_MS = 25;
/** How often the host tries its own probe after a `ready` line, and for how long. */
const PROBE_EVERY_MS = 250;
const READY_CONFIRM_MS = 60_000;
/** After a `failed` line, how long the sandbox's exit is watched for closely. */
const FAILED_WATCH_MS = 3000;
/** The phases a status line may name; `ready` is the host's to set. */
const BOOT_PHASES = new Set(["writing_files", "cloning_repo", "installing_deps", "starting_harness"]);

export type BootTimings = Record<string, number>;

export type BootCallbacks = {
  /** The bootstrap moved to a new phase (`timings` has the one it left). */
  phase: (phase: string, detail: string | null, timings: BootTimings) => Promise<void>;
  /** Held up outside the sandbox (no node fits, the image is still pulling), or no longer. */
  waiting: (phase: string, waiting: string | undefined) => Promise<void>;
  /** The harness answered the host: get the session ready (its terminal); false if that failed. */
  confirmed: () => Promise<boolean>;
  /** The session is ready; `timings` is complete (with `total`). */
  ready: (timings: BootTimings) => Promise<void>;
  /** The session cannot come up: the reason to fail it with. */
  failed: (reason: string) => Promise<void>;
  /** The sandbox is gone: why, and whether the session had been ready (then it is dead, else failed). */
  exited: (reason: string, wasReady: boolean) => Promise<void>;
};

export type BootWatch = {
  sessionId: string;
  sessionDir: string;
  driver: SandboxDriver;
  check: ReadyCheck;
  /** When the session was created (its sandbox phase runs from then until the first report). */
  started: number;
  timings: BootTimings;
  /** The phase and status it is in now (an adopted session may be further along). */
  phase: string | null;
  ready: boolean;
  /** Where in the status file to start (an adopted ready session skips what is there). */
  offset?: number;
};

function lastLines(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * Follows the bootstrap's status lines and the sandbox until the session settles. The lines are
 * hints: `phase` moves the phase along while booting; `ready` makes the host probe the harness and
 * only its own answer makes the session ready; `failed` only supplies the reason for when the host
 * sees the sandbox exit (a running sandbox has not failed); `exited` is ignored for the same reason.
 * The watch ends with stop(), which the lifecycle calls when it settles the session.
 */
export function watchBoot(watch: BootWatch, on: BootCallbacks): { stop: () => void } {
  const { sessionId, driver, started, timings } = watch;
  const paths = sessionPaths(watch.sessionDir);
  const harnessSocket = path.join(paths.tunnels, HARNESS_SOCKET);
  const status = new StatusReader(paths.status, watch.offset ?? 0);
  let phase = watch.phase ?? "creating_sandbox";
  // The sandbox phase runs from the POST until the bootstrap's first report (its own start included).
  let phaseStarted = phase === "creating_sandbox" ? started : Date.now();
  let ready = watch.ready;
  let stopped = false;
  let busy = false;
  let lastProcessCheck = 0;
  let waiting: string | undefined;
  /** The last `failed` line's reason: the failure reason if the sandbox then exits. */
  let failure: string | undefined;
  let watchClosely = 0;
  /** When a `ready` line asked the host to check, and when it last probed. */
  let confirming: number | undefined;
  let lastProbe = 0;

  const handle = async (line: StatusLine) => {
    if (ready) return;
    const now = Date.now();
    if (line.type === "phase" && line.phase && BOOT_PHASES.has(line.phase)) {
      timings[phase] = now - phaseStarted;
      phase = line.phase;
      phaseStarted = now;
      await on.phase(phase, line.detail ?? null, timings);
    } else if (line.type === "ready") {
      confirming ??= now;
    } else if (line.type === "failed") {
      failure = line.reason ?? "boot failed";
      watchClosely = now + FAILED_WATCH_MS;
    }
  };

  const markReady = async () => {
    if (!(await on.confirmed())) return;
    timings[phase] = Date.now() - phaseStarted;
    timings.total = Date.now() - started;
    ready = true;
    await on.ready(timings);
  };

  /** Handles the status lines written since the last read; false once the session settled. */
  const readStatus = async (): Promise<boolean> => {
    for (const line of await status.read()) {
      try {
        await handle(line);
      } catch (err) {
        log.warn("boot status line not handled", { sessionId, err });
      }
      if (stopped) return false;
    }
    return true;
  };

  /** Probes the harness after a `ready` line; false once the session settled. */
  const confirm = async (): Promise<boolean> => {
    if (confirming === undefined || ready || Date.now() - lastProbe < PROBE_EVERY_MS) return true;
    lastProbe = Date.now();
    const answer = await harnessAnswers(driver, sessionId, watch.check, harnessSocket);
    if (typeof answer === "string") {
      await on.failed(answer);
      return false;
    }
    if (answer) {
      confirming = undefined;
      await markReady();
      return !stopped;
    }
    if (Date.now() - confirming > READY_CONFIRM_MS) {
      log.warn("a ready line the harness did not confirm", { sessionId });
      confirming = undefined;
    }
    return true;
  };

  const checkSandbox = async () => {
    lastProcessCheck = Date.now();
    const sandbox = await driver.status(sessionId);
    if (!sandbox || sandbox.state === "exited") {
      // The bootstrap's last words (why it failed) may have landed just before it exited.
      for (let i = 0; i < 16; i++) if (!(await readStatus()) || !status.more) break;
      if (stopped) return;
      const tail = lastLines(paths.log, 5);
      const why =
        sandbox?.reason ??
        `the sandbox exited${sandbox?.exitCode !== undefined ? ` with code ${sandbox.exitCode}` : ""}`;
      await on.exited(
        !ready && failure ? failure : `${why}${tail ? `: ${tail.replace(/\n/g, " | ")}` : ""}`,
        ready,
      );
    } else if (!ready && sandbox.waiting !== waiting) {
      waiting = sandbox.waiting;
      await on.waiting(phase, waiting);
    }
  };

  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      if (!(await readStatus())) return;
      if (!(await confirm())) return;
      if (Date.now() - lastProcessCheck > 500 || Date.now() < watchClosely) await checkSandbox();
    } catch (err) {
      // A transient failure to ask the driver (an API server hiccup) is retried on the next tick.
      log.warn("boot watcher check failed", { sessionId, err });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), POLL_MS);
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
