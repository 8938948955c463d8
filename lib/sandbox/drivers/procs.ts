import { spawn } from "node:child_process";
import fs from "node:fs";
import { constants as osConstants } from "node:os";
import path from "node:path";

import type { ExecResult } from "../types";
import { DEFAULT_PATH } from "./bwrap-args";

/* What the supervised drivers read of this host's processes (/proc) and how they run host commands. */

const EXEC_MAX_OUTPUT = 16 * 1024 * 1024;

export type ProcStat = { state: string; ppid: number; pgrp: number; startTime: number };

export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name may hold spaces and parentheses; the fields after the last ")" are fixed.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    state: fields[0] ?? "?",
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    startTime: Number(fields[19]),
  };
}

/** Alive, not a zombie, and the same process that was recorded (start time guards pid reuse). */
export function isSameProcess(pid: number | undefined, startTime: number | undefined): boolean {
  if (!pid || startTime === undefined) return false;
  const stat = readProcStat(pid);
  return stat !== null && stat.state !== "Z" && stat.state !== "X" && stat.startTime === startTime;
}

export function isLive(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== "Z" && state !== "X";
}

export function listPids(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

export function readCmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  } catch {
    return [];
  }
}

export function readLink(file: string): string | null {
  try {
    return fs.readlinkSync(file);
  } catch {
    return null;
  }
}

/** The server and its ancestors: never signalled, whatever a scan matches. */
export function protectedPids(): Set<number> {
  const pids = new Set([1, process.pid]);
  for (let pid = process.ppid; pid > 1 && !pids.has(pid); pid = readProcStat(pid)?.ppid ?? 0) pids.add(pid);
  return pids;
}

export function findExecutable(name: string, pathVar = process.env.PATH ?? DEFAULT_PATH): string | null {
  if (name.includes("/")) return isExecutable(name) ? name : null;
  for (const dir of pathVar.split(":")) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

// Next's types mark NODE_ENV as required; a sandbox environment deliberately has only what it is given.
export const asProcessEnv = (env: Record<string, string>) => env as NodeJS.ProcessEnv;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a host command in its own process group and collects its output. */
export function runCommand(
  command: string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: string | Uint8Array; timeoutMs?: number },
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = command;
    const child = spawn(file!, args, {
      cwd: options.cwd,
      env: asProcessEnv(options.env ?? { PATH: DEFAULT_PATH }),
      detached: true,
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const collect = (into: Buffer[]) => {
      let size = 0;
      return (chunk: Buffer) => {
        if (size >= EXEC_MAX_OUTPUT) return;
        into.push(chunk.subarray(0, EXEC_MAX_OUTPUT - size));
        size += chunk.length;
      };
    };
    child.stdout!.on("data", collect(out));
    child.stderr!.on("data", collect(err));
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid!, "SIGKILL");
            } catch {
              // Already gone.
            }
          }, options.timeoutMs);
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        exitCode: code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
      });
    });
    if (child.stdin) {
      child.stdin.on("error", () => undefined);
      child.stdin.end(options.stdin);
    }
  });
}
