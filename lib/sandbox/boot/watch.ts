import fs from "node:fs";
import path from "node:path";

import { log } from "@/lib/log";

import { HARNESS_SOCKET, sessionPaths, type SessionPaths } from "../layout";
import type { SandboxDriver } from "../types";
import { harnessAnswers, type ReadyCheck } from "./probe";
import { StatusReader, type StatusLine } from "./status";
import { everyFewSeconds } from "./sweep";

/*
 * The boot watcher: follows a sandbox's status lines and the sandbox itself until its session
 * settles, and says what it sees through callbacks. It writes nothing: the session's lifecycle
 * (lib/sessions/launch.ts) records phases and status.
 *
 * It runs on events, not timers, so an idle session costs nothing: inotify says when a status line
 * was written (read only while booting: a ready session's lines change nothing), and the driver says
 * when the sandbox ended (watchExit). Timers run only while something is pending (the probe after a
 * `ready` line, the close watch after a `failed` one), plus one shared slow check per process for
 * drivers that cannot report an exit, and as a safety net for those that can.
 */

/** Status reads are this far apart at least: a flooding sandbox delays only its own lines. */
const READ_GAP_MS = 25;
/** How often the host tries its own probe after a `ready` line, and for how long. */
const PROBE_EVERY_MS = 250;
const READY_CONFIRM_MS = 60_000;
/** After a `failed` line, how long and how often the sandbox's exit is watched for closely. */
const FAILED_WATCH_MS = 3000;
const FAILED_CHECK_MS = 50;
/** The sandbox's status is checked this often when its driver cannot report the exit... */
const CHECK_EVERY_MS = 2000;
/** ...and this often when it can (a supervisor killed outright writes no exit code). */
const SAFETY_CHECK_MS = 30_000;
/** A check that failed (an API server hiccup) is tried again after this long. */
const RETRY_MS = 1000;
/** Only when the status file cannot be watched (no inotify watch left): read it this often. */
const STATUS_POLL_MS = 250;
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

/** What the watcher does, one at a time and each queued at most once. */
type Job = "read" | "probe" | "check";

class BootWatcher {
  private readonly paths: SessionPaths;
  private readonly status: StatusReader;
  private phase: string;
  private phaseStarted: number;
  private ready: boolean;
  private stopped = false;
  private gone = false;
  private waiting: string | undefined;
  /** The last `failed` line's reason: the failure reason if the sandbox then exits. */
  private failure: string | undefined;
  private watchCloselyUntil = 0;
  /** When a `ready` line asked the host to check. */
  private confirming: number | undefined;
  private lastRead = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly queued = new Set<Job>();
  private readonly timers = new Map<Job, NodeJS.Timeout>();
  private statusWatcher: fs.FSWatcher | null = null;
  private statusPoll: NodeJS.Timeout | null = null;
  private readonly exitWatch: { close: () => void } | null;
  private readonly stopSweep: () => void;

  constructor(
    private readonly watch: BootWatch,
    private readonly on: BootCallbacks,
  ) {
    this.paths = sessionPaths(watch.sessionDir);
    this.status = new StatusReader(this.paths.status, watch.offset ?? 0);
    this.phase = watch.phase ?? "creating_sandbox";
    // The sandbox phase runs from the POST until the bootstrap's first report (its own start included).
    this.phaseStarted = this.phase === "creating_sandbox" ? watch.started : Date.now();
    this.ready = watch.ready;
    this.exitWatch = this.watchExit();
    const check = () => this.run("check");
    this.stopSweep = everyFewSeconds(this.exitWatch ? SAFETY_CHECK_MS : CHECK_EVERY_MS, check);
    if (!this.exitWatch) this.run("check");
    if (!this.ready) {
      this.watchStatus();
      this.requestRead();
    }
  }

  stop() {
    this.stopped = true;
    this.closeStatusWatch();
    this.exitWatch?.close();
    this.stopSweep();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private watchExit(): { close: () => void } | null {
    try {
      return this.watch.driver.watchExit?.(this.watch.sessionId, () => this.run("check")) ?? null;
    } catch (err) {
      log.warn("cannot watch the sandbox's exit; checking it on a timer", { sessionId: this.id, err });
      return null;
    }
  }

  private get id() {
    return this.watch.sessionId;
  }

  // ---- jobs -----------------------------------------------------------------------------------------

  /** Queues `job` behind the one running (never twice); a failure is logged and tried again later. */
  private run(job: Job) {
    if (this.stopped || this.queued.has(job)) return;
    this.queued.add(job);
    this.chain = this.chain.then(async () => {
      this.queued.delete(job);
      if (this.stopped) return;
      try {
        if (job === "read") await this.read();
        else if (job === "probe") await this.probe();
        else await this.check();
      } catch (err) {
        log.warn("boot watcher check failed", { sessionId: this.id, err });
        this.later(job, job === "probe" ? PROBE_EVERY_MS : RETRY_MS);
      }
    });
  }

  /** Runs `job` after `ms`, unless it is already due then. */
  private later(job: Job, ms: number) {
    if (this.stopped || this.timers.has(job)) return;
    const timer = setTimeout(() => {
      this.timers.delete(job);
      this.run(job);
    }, ms);
    this.timers.set(job, timer);
  }

  // ---- status lines ---------------------------------------------------------------------------------

  /** Watches the status file (its folder until it exists); reads follow each change. */
  private watchStatus() {
    this.closeStatusWatch();
    if (this.ready || this.stopped) return;
    const file = this.paths.status;
    let isFile = false;
    try {
      isFile = fs.lstatSync(file).isFile();
    } catch {
      // Not there yet: its folder says when it is.
    }
    try {
      this.statusWatcher = fs.watch(
        isFile ? file : path.dirname(file),
        { persistent: false },
        (type, name) => {
          if (!isFile && name !== null && name !== path.basename(file)) return;
          // Replaced or removed, or made while the folder was watched: watch what the path is now.
          if (isFile ? type === "rename" : this.statusFileExists()) this.watchStatus();
          this.requestRead();
        },
      );
      this.statusWatcher.on("error", (err) => this.pollStatus(err));
    } catch (err) {
      this.pollStatus(err);
    }
  }

  private statusFileExists(): boolean {
    try {
      return fs.lstatSync(this.paths.status).isFile();
    } catch {
      return false;
    }
  }

  private pollStatus(err: unknown) {
    this.closeStatusWatch();
    if (this.ready || this.stopped) return;
    log.warn("the boot status cannot be watched; reading it on a timer", { sessionId: this.id, err });
    this.statusPoll = setInterval(() => this.requestRead(), STATUS_POLL_MS);
  }

  private closeStatusWatch() {
    this.statusWatcher?.close();
    this.statusWatcher = null;
    if (this.statusPoll) clearInterval(this.statusPoll);
    this.statusPoll = null;
  }

  private requestRead() {
    if (this.ready) return;
    const wait = this.lastRead + READ_GAP_MS - Date.now();
    if (wait > 0) this.later("read", wait);
    else this.run("read");
  }

  private async read() {
    if (this.ready) return;
    this.lastRead = Date.now();
    if ((await this.readStatus()) && this.status.more) this.requestRead();
  }

  /** Handles the status lines written since the last read; false once the session settled. */
  private async readStatus(): Promise<boolean> {
    for (const line of await this.status.read()) {
      try {
        await this.handle(line);
      } catch (err) {
        log.warn("boot status line not handled", { sessionId: this.id, err });
      }
      if (this.stopped) return false;
    }
    return true;
  }

  /**
   * The lines are hints: `phase` moves the phase along while booting; `ready` makes the host probe
   * the harness and only its own answer makes the session ready; `failed` only supplies the reason for
   * when the host sees the sandbox exit (a running sandbox has not failed); `exited` is ignored for
   * the same reason.
   */
  private async handle(line: StatusLine) {
    if (this.ready) return;
    const now = Date.now();
    if (line.type === "phase" && line.phase && BOOT_PHASES.has(line.phase)) {
      this.watch.timings[this.phase] = now - this.phaseStarted;
      this.phase = line.phase;
      this.phaseStarted = now;
      await this.on.phase(this.phase, line.detail ?? null, this.watch.timings);
    } else if (line.type === "ready") {
      if (this.confirming !== undefined) return;
      this.confirming = now;
      this.run("probe");
    } else if (line.type === "failed") {
      this.failure = line.reason ?? "boot failed";
      this.watchCloselyUntil = now + FAILED_WATCH_MS;
      this.run("check");
    }
  }

  // ---- the harness and the sandbox --------------------------------------------------------------------

  /** Probes the harness after a `ready` line, again every PROBE_EVERY_MS until it answers or time is up. */
  private async probe() {
    if (this.confirming === undefined || this.ready) return;
    const harnessSocket = path.join(this.paths.tunnels, HARNESS_SOCKET);
    const answer = await harnessAnswers(this.watch.driver, this.id, this.watch.check, harnessSocket);
    if (this.stopped) return;
    if (typeof answer === "string") {
      await this.on.failed(answer);
    } else if (answer) {
      this.confirming = undefined;
      await this.markReady();
    } else if (Date.now() - this.confirming > READY_CONFIRM_MS) {
      log.warn("a ready line the harness did not confirm", { sessionId: this.id });
      this.confirming = undefined;
    } else {
      this.later("probe", PROBE_EVERY_MS);
    }
  }

  private async markReady() {
    // Phases the bootstrap reported before the harness answered are recorded first (the probe runs
    // on its own timer, so a read may still be pending): the log says starting_harness, then ready.
    for (let i = 0; i < 16; i++) if (!(await this.readStatus()) || !this.status.more) break;
    if (this.stopped) return;
    if (!(await this.on.confirmed())) return;
    const now = Date.now();
    this.watch.timings[this.phase] = now - this.phaseStarted;
    this.watch.timings.total = now - this.watch.started;
    this.ready = true;
    this.closeStatusWatch();
    await this.on.ready(this.watch.timings);
  }

  private async check() {
    if (this.gone) return;
    const sandbox = await this.watch.driver.status(this.id);
    if (this.stopped) return;
    if (!sandbox || sandbox.state === "exited") {
      // The bootstrap's last words (why it failed) may have landed just before it exited.
      if (!this.ready)
        for (let i = 0; i < 16; i++) if (!(await this.readStatus()) || !this.status.more) break;
      if (this.stopped) return;
      this.gone = true;
      const tail = lastLines(this.paths.log, 5);
      const why =
        sandbox?.reason ??
        `the sandbox exited${sandbox?.exitCode !== undefined ? ` with code ${sandbox.exitCode}` : ""}`;
      await this.on.exited(
        !this.ready && this.failure ? this.failure : `${why}${tail ? `: ${tail.replace(/\n/g, " | ")}` : ""}`,
        this.ready,
      );
      return;
    }
    if (!this.ready && sandbox.waiting !== this.waiting) {
      this.waiting = sandbox.waiting;
      await this.on.waiting(this.phase, this.waiting);
    }
    if (Date.now() < this.watchCloselyUntil) this.later("check", FAILED_CHECK_MS);
  }
}

/**
 * Follows the bootstrap's status lines and the sandbox until the session settles (see BootWatcher).
 * The watch ends with stop(), which the lifecycle calls when it settles the session.
 */
export function watchBoot(watch: BootWatch, on: BootCallbacks): { stop: () => void } {
  const watcher = new BootWatcher(watch, on);
  return { stop: () => watcher.stop() };
}
