import path from "node:path";

import { log } from "@/lib/log";

import type { Isolation } from "../types";
import { cgroupPids } from "./limits";
import { isLive, isSameProcess, listPids, protectedPids, readLink, readProcStat, sleep } from "./procs";
import type { SandboxRecord } from "./records";

/* The processes of one supervised sandbox: whether it runs, which they are, and ending them. */

/** The supervisor is the recorded process, and so is the sandbox's init when it has one. */
export function isRunning(record: SandboxRecord): boolean {
  if (!isSameProcess(record.pid, record.pidStart)) return false;
  return record.initPid === undefined || isSameProcess(record.initPid, record.initStart);
}

/**
 * Every process of the sandbox we can find: its process group, descendants, pid namespace and
 * cgroup. Each source is checked to belong to this sandbox alone, because everything returned is
 * SIGKILLed: a pid namespace or cgroup shared with the server would take the whole machine down.
 */
export function sandboxPids(record: SandboxRecord, isolation: Isolation): number[] {
  const keep = protectedPids();
  const ownNamespace = readLink("/proc/self/ns/pid");
  const pidNamespace = record.pidNamespace !== ownNamespace ? record.pidNamespace : undefined;
  const cgroups = record.cgroups.filter(
    (dir) => path.basename(dir) === record.sessionId && path.basename(path.dirname(dir)) === "hangar",
  );
  const found = new Set<number>(cgroupPids(cgroups).filter((pid) => isLive(pid)));
  const supervisorAlive = isSameProcess(record.pid, record.pidStart);
  const children = new Map<number, number[]>();
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    // A zombie cannot be killed; its parent (or pid 1 on a host whose init reaps) collects it.
    if (!stat || stat.state === "Z" || stat.state === "X") continue;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
    if (supervisorAlive && stat.pgrp === record.pid) found.add(pid);
    if (pidNamespace && readLink(`/proc/${pid}/ns/pid`) === pidNamespace) found.add(pid);
    if (isolation === "none") {
      const cwd = readLink(`/proc/${pid}/cwd`);
      if (cwd && (cwd === record.sessionDir || cwd.startsWith(record.sessionDir + "/"))) found.add(pid);
    }
  }
  const roots = [
    ...(supervisorAlive ? [record.pid] : []),
    ...(isSameProcess(record.initPid, record.initStart) ? [record.initPid!] : []),
  ];
  for (const root of roots) {
    const stack = [root];
    while (stack.length > 0) {
      const pid = stack.pop()!;
      if (found.has(pid) && pid !== root) continue;
      found.add(pid);
      stack.push(...(children.get(pid) ?? []));
    }
  }
  return [...found].filter((pid) => !keep.has(pid));
}

/** TERMs the sandbox's programs (with a grace period), then SIGKILLs all of it until nothing is left. */
export async function killSandbox(record: SandboxRecord, isolation: Isolation, graceMs: number) {
  const signalAll = (signal: NodeJS.Signals, pids: number[]) => {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // Gone already.
      }
    }
  };
  if (graceMs > 0) {
    // TERM the sandbox's programs but not its init, which ends the namespace once they are done.
    const inside = (pid: number) =>
      isolation === "none" || readLink(`/proc/${pid}/ns/pid`) === record.pidNamespace;
    signalAll(
      "SIGTERM",
      sandboxPids(record, isolation).filter((p) => p !== record.pid && p !== record.initPid && inside(p)),
    );
    const deadline = Date.now() + graceMs;
    while (isRunning(record) && Date.now() < deadline) await sleep(20);
  }
  for (let round = 0; round < 100; round++) {
    const pids = sandboxPids(record, isolation);
    if (pids.length === 0) return;
    signalAll("SIGKILL", pids);
    await sleep(round < 10 ? 10 : 50);
  }
  log.warn("sandbox processes survived SIGKILL", { sessionId: record.sessionId });
}
