import fs from "node:fs";

import { sessionPaths } from "@/lib/sandbox/layout";

import { sessionManager } from "./manager";
import { sessionDir } from "./paths";

const READ_MAX = 2 * 1024 * 1024;

/** The last lines of the sandbox's output (the log is capped and rotated by the driver). */
export function readSandboxLog(sessionId: string, tailLines: number): string {
  const file = sessionPaths(sessionDir(sessionId)).log;
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, READ_MAX);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString("utf8").split("\n");
    if (lines.at(-1) === "") lines.pop();
    return lines.slice(-tailLines).join("\n") + (lines.length ? "\n" : "");
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The sandbox's log from wherever it is: a remote driver reads it from the engine while the sandbox
 * runs (any replica can answer), else this host's copy (the local log, or a remote sandbox's mirror).
 */
export async function sandboxLog(sessionId: string, tailLines: number): Promise<string> {
  const remote = await sessionManager()
    .driver.readLog?.(sessionId, tailLines)
    .catch(() => "");
  return remote || readSandboxLog(sessionId, tailLines);
}
