import fs from "node:fs";
import path from "node:path";

import { sessionPaths } from "../layout";
import type { AppliedLimits, Isolation } from "../types";

/*
 * A supervised sandbox's record (run/sandbox.json) and the small host-only files beside it: what a new
 * driver instance on the same root reads back to find, adopt and report its sandboxes.
 */

const STATE_VERSION = 1;

/** What run/sandbox.json holds. */
export type SandboxRecord = {
  version: number;
  driver: string;
  isolation: Isolation;
  sessionId: string;
  sessionDir: string;
  pid: number;
  pidStart: number;
  initPid?: number;
  initStart?: number;
  pidNamespace?: string;
  /** Socket names of the reverse bridges (in run/sock/, linked into run/tunnels/). */
  reverse?: string[];
  startedAt: string;
  exitedAt?: string;
  env: Record<string, string>;
  limits: AppliedLimits;
  cgroups: string[];
  rlimits: string[];
};

/** The record of `sessionDir` when it is one of `driver`'s, of this version, for that very folder. */
export function readRecord(sessionDir: string, driver: string): SandboxRecord | null {
  try {
    const record = JSON.parse(fs.readFileSync(sessionPaths(sessionDir).state, "utf8")) as SandboxRecord;
    if (record.version !== STATE_VERSION || record.driver !== driver) return null;
    if (path.resolve(record.sessionDir) !== path.resolve(sessionDir)) return null;
    return record;
  } catch {
    return null;
  }
}

/** A new record for a sandbox just started (the rest of the fields are the caller's). */
export function newRecord(fields: Omit<SandboxRecord, "version">): SandboxRecord {
  return { version: STATE_VERSION, ...fields };
}

export function writeRecord(record: SandboxRecord) {
  writeFileAtomic(sessionPaths(record.sessionDir).state, JSON.stringify(record, null, 2) + "\n");
}

export function writeFileAtomic(file: string, text: string, mode = 0o600) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}

/** Copy-then-truncate rotation: the sandbox writes with O_APPEND, so it carries on at offset 0. */
export function rotateLog(file: string, maxBytes: number): boolean {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  fs.copyFileSync(file, `${file}.1`);
  fs.truncateSync(file, 0);
  return true;
}

export function tail(file: string, bytes = 2048): string {
  try {
    const fd = fs.openSync(file, "r");
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(bytes, size));
      fs.readSync(fd, buf, 0, buf.length, size - buf.length);
      return buf.toString("utf8");
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return "";
  }
}

export function readNumber(file: string): number | undefined {
  try {
    const text = fs.readFileSync(file, "utf8").trim();
    const n = Number(text);
    // Empty (the exit code before the supervisor wrote it) is no number, not 0.
    return text !== "" && Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of bwrap's child (the sandbox's init) from bwrap's status file. */
export function readChildPid(statusFile: string): number | undefined {
  try {
    const match = /"child-pid":\s*(\d+)/.exec(fs.readFileSync(statusFile, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
