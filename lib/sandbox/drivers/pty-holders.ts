import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { sessionPaths } from "../layout";
import { SandboxError } from "../types";
import { DEFAULT_PATH } from "./bwrap-args";
import { asProcessEnv, isLive, readCmdline, sleep } from "./procs";
import { tail } from "./records";

/*
 * The terminal holders of the supervised drivers (lib/pty/holder.mjs): a detached process per terminal
 * that holds its pty and serves it on a host-only socket, so a terminal outlives a server restart.
 */

export const PTY_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const PTY_HOLDER = path.join(process.cwd(), "lib", "pty", "holder.mjs");
/** How long a holder may take to serve its terminal once it has its program. */
const HOLDER_START_TIMEOUT_MS = 10_000;

export type PtyFiles = ReturnType<typeof ptyFiles>;

/** A session's terminals live in run/pty/ (host only): <name>.sock, <name>.pid, <name>.log. */
export function ptyFiles(sessionDir: string, name: string) {
  const dir = sessionPaths(sessionDir).pty;
  return {
    dir,
    socket: path.join(dir, `${name}.sock`),
    pid: path.join(dir, `${name}.pid`),
    log: path.join(dir, `${name}.log`),
  };
}

/** The holder's pid when its pid file names a live holder process (guards against pid reuse). */
export function runningHolder(pidFile: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, "utf8").trim());
  } catch {
    return null;
  }
  return Number.isInteger(pid) && pid > 0 && isLive(pid) && readCmdline(pid).includes(PTY_HOLDER)
    ? pid
    : null;
}

/** Ends every terminal holder of a session (each also notices on its own when the sandbox is gone). */
export function stopHolders(sessionDir: string) {
  const dir = sessionPaths(sessionDir).pty;
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith(".pid"));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = runningHolder(path.join(dir, name));
    if (!pid) continue;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Gone already.
    }
  }
}

/** Detached and in its own session, like the sandbox supervisor: the terminal outlives a server
 * restart. Its config (which holds the session's environment) comes through stdin, never the disk. */
export function spawnHolder(files: PtyFiles): ChildProcess {
  const logFd = fs.openSync(files.log, "a", 0o600);
  const holder = spawn(process.execPath, [PTY_HOLDER], {
    cwd: files.dir,
    detached: true,
    stdio: ["pipe", logFd, logFd],
    env: asProcessEnv({ PATH: DEFAULT_PATH }),
  });
  fs.closeSync(logFd);
  return holder;
}

/** What a holder is told to run: its program (with the sandbox's join script), and the sandbox to watch. */
export type HolderConfig = {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  cols?: number;
  rows?: number;
  title: string;
  watchPid: number;
};

/** Hands a holder its program and waits until it serves the terminal on its socket. */
export async function runInHolder(holder: ChildProcess, files: PtyFiles, config: HolderConfig) {
  holder.stdin!.end(
    JSON.stringify({
      socketPath: files.socket,
      pidPath: files.pid,
      argv: config.argv,
      env: config.env,
      cwd: config.cwd,
      cols: config.cols,
      rows: config.rows,
      title: config.title,
      watchPid: config.watchPid,
    }),
  );
  holder.unref();
  const exited = new Promise<never>((_, reject) =>
    holder.once("exit", (code) =>
      reject(
        new SandboxError("launch_failed", `The terminal holder exited (code ${code}): ${tail(files.log)}`),
      ),
    ),
  );
  const deadline = Date.now() + HOLDER_START_TIMEOUT_MS;
  while (!(runningHolder(files.pid) && fs.existsSync(files.socket))) {
    if (Date.now() > deadline) {
      holder.kill("SIGKILL");
      throw new SandboxError("launch_failed", `The terminal holder did not start: ${tail(files.log)}`);
    }
    await Promise.race([sleep(10), exited]);
  }
  holder.removeAllListeners("exit");
}

/**
 * Holders started ahead of their program: each loads its modules while the sandbox boots, and
 * startPty then only hands it the program. Stopping the sandbox ends them.
 */
export class WarmHolders {
  private readonly holders = new Map<string, ChildProcess>();

  has(sessionId: string, name: string): boolean {
    return this.holders.has(`${sessionId}/${name}`);
  }

  start(sessionId: string, name: string, files: PtyFiles) {
    const key = `${sessionId}/${name}`;
    fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    const holder = spawnHolder(files);
    // Its stdin stays open until startPty writes the program: do not let that keep the server alive.
    (holder.stdin as unknown as { unref?: () => void }).unref?.();
    this.holders.set(key, holder);
    holder.once("exit", () => {
      if (this.holders.get(key) === holder) this.holders.delete(key);
    });
  }

  /** The waiting holder of a terminal, if it is still alive; it is no longer kept here. */
  take(sessionId: string, name: string): ChildProcess | undefined {
    const key = `${sessionId}/${name}`;
    const holder = this.holders.get(key);
    this.holders.delete(key);
    return holder && holder.exitCode === null && holder.signalCode === null ? holder : undefined;
  }

  /** Kills the holders waiting for a session's terminals. */
  kill(sessionId: string) {
    for (const [key, holder] of this.holders) {
      if (key.startsWith(`${sessionId}/`)) holder.kill("SIGKILL");
    }
  }
}
