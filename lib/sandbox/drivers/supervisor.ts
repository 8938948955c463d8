import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { log } from "@/lib/log";

import { sessionPaths, type SessionPaths } from "../layout";
import { SandboxError, type Isolation, type LaunchSpec } from "../types";
import { shellQuote, type EntryBridges } from "./bwrap-args";
import { joinLimitsScript, type LimitPlan } from "./limits";
import { asProcessEnv, isSameProcess, listPids, readCmdline, readLink, readProcStat, sleep } from "./procs";
import { readChildPid, readNumber, tail, writeRecord, type SandboxRecord } from "./records";
import { isRunning } from "./sandbox-procs";

/*
 * A supervised sandbox's supervisor: the `sh` process between the server and the sandboxed command
 * (see local.ts), its script, starting it, and waiting until the command inside has started.
 */

const START_TIMEOUT_MS = 10_000;
const EXIT_BRIDGE_FAILED = 97;
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The fd on which the main process finds the host-only status file (run/status.jsonl). */
export const STATUS_FD = 4;
/** The fd on which bwrap reads the seccomp filter (run/seccomp.bpf), given to bwrap alone. */
export const SECCOMP_FD = 5;

export type Prepared = {
  command: string[];
  /** Environment of the supervisor (the process driver passes the sandbox env through it). */
  supervisorEnv: Record<string, string>;
  cwd: string;
  bridges: EntryBridges;
  /** bwrap reports its child pid on fd 3. */
  statusFd: boolean;
  /** Path of entry.sh as the sandbox sees it, to tell when the main command has been exec'd. */
  entryAsSeen: string;
  /** A seccomp filter file the command reads on fd SECCOMP_FD (bwrap's --seccomp). */
  seccompFile?: string;
};

/** Refuses a launch spec the supervised drivers cannot run safely, before anything is made. */
export function validateLaunchSpec(spec: LaunchSpec, root: string) {
  const bad = (msg: string) => new SandboxError("invalid_spec", msg);
  if (!SESSION_ID.test(spec.sessionId)) throw bad(`Invalid session id: ${spec.sessionId}`);
  if (!path.isAbsolute(spec.sessionDir)) throw bad("sessionDir must be absolute");
  if (path.dirname(path.resolve(spec.sessionDir)) !== root) {
    throw bad(`sessionDir must sit directly in the driver root ${root}`);
  }
  if (spec.argv.length === 0 || !spec.argv[0]) throw bad("argv must name a command");
  const ports = [...(spec.bridges ?? []), ...(spec.reverseBridges ?? [])].map((b) => b.port);
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))
    throw bad("Bridge ports must be 1-65535");
  if (new Set(ports).size !== ports.length) throw bad("Bridge ports must be distinct");
  const sock = sessionPaths(path.resolve(spec.sessionDir)).sock;
  for (const b of spec.bridges ?? []) {
    if (!path.isAbsolute(b.socketPath)) throw bad(`Bridge socket path must be absolute: ${b.socketPath}`);
  }
  for (const b of spec.reverseBridges ?? []) {
    if (path.dirname(path.resolve(b.socketPath)) !== sock) {
      throw bad(`Reverse bridge socket must sit directly in ${sock}: ${b.socketPath}`);
    }
  }
  for (const [k, v] of Object.entries(spec.limits ?? {})) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      throw bad(`limits.${k} must be a positive integer`);
  }
}

/**
 * The supervisor's script: join the sandbox's cgroups and rlimits, run the prepared command with the
 * host-only status files on their fds, and record its exit code.
 */
export function supervisorScript(
  paths: SessionPaths,
  prepared: Prepared,
  limits: LimitPlan,
  prlimit: string,
  isolation: Isolation,
): string {
  return [
    `fail() { echo "hangar: $1" >&2; echo 125 > ${shellQuote(paths.exitCode)}; exit 125; }`,
    ...joinLimitsScript(limits, prlimit),
    // Not `exec`: the supervisor must stay bwrap's parent, and records the exit code.
    `"$@"${prepared.statusFd ? ` 3>${shellQuote(paths.bwrapStatus)}` : ""} ${STATUS_FD}>>${shellQuote(paths.status)}` +
      (prepared.seccompFile ? ` ${SECCOMP_FD}<${shellQuote(prepared.seccompFile)}` : ""),
    `echo $? > ${shellQuote(paths.exitCode)}`,
    // Without a pid namespace, leftovers of the main command (bridges) go with it.
    ...(isolation === "none" ? ["kill -KILL 0"] : []),
  ].join("\n");
}

/**
 * Starts the supervisor, detached (it outlives this server), with its output going to the sandbox log
 * and the spec's stdin (the boot spec) piped to it. Its pid and start time, or null if it did not start.
 */
export function startSupervisor(
  spec: LaunchSpec,
  paths: SessionPaths,
  prepared: Prepared,
  script: string,
): { pid: number; pidStart: number } | null {
  const logFd = fs.openSync(paths.log, "a", 0o600);
  let child: ChildProcess;
  try {
    child = spawn("/bin/sh", ["-c", script, "hangar-supervisor", ...prepared.command], {
      cwd: prepared.cwd,
      env: asProcessEnv(prepared.supervisorEnv),
      detached: true,
      stdio: [spec.stdin === undefined ? "ignore" : "pipe", logFd, logFd],
    });
  } finally {
    fs.closeSync(logFd);
  }
  child.on("error", (err) => log.error("sandbox supervisor failed to start", { err }));
  child.unref();
  if (child.stdin) {
    // The sandbox's main process reads it (the supervisor, bwrap and the entry script pass it on).
    child.stdin.on("error", () => undefined);
    child.stdin.end(spec.stdin);
    (child.stdin as unknown as { unref?: () => void }).unref?.();
  }
  const pid = child.pid;
  const pidStart = pid ? readProcStat(pid)?.startTime : undefined;
  return pid && pidStart !== undefined ? { pid, pidStart } : null;
}

/**
 * Waits for bwrap's child pid (when isolated) and until entry.sh has exec'd the main command.
 * `helpers` are programs that run as that parent's children before the main command and are not it:
 * socat (the bridges entry.sh starts) and prlimit (which the supervisor runs on itself first; without
 * a pid namespace the supervisor is the parent watched here).
 */
export async function waitStarted(
  record: SandboxRecord,
  paths: SessionPaths,
  prepared: Prepared,
  helpers: { socat: string; prlimit: string },
) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const failed = (why: string) =>
    new SandboxError("launch_failed", `Sandbox ${record.sessionId} ${why}. Log tail:\n${tail(paths.log)}`);
  while (prepared.statusFd && record.initPid === undefined) {
    const childPid = readChildPid(paths.bwrapStatus);
    const initStart = childPid ? readProcStat(childPid)?.startTime : undefined;
    if (childPid && initStart !== undefined) {
      record.initPid = childPid;
      record.initStart = initStart;
      const ns = readLink(`/proc/${childPid}/ns/pid`);
      // Stop matches processes by this namespace: it must never be the server's own.
      if (!ns || ns === readLink("/proc/self/ns/pid")) throw failed("has no pid namespace of its own");
      record.pidNamespace = ns;
      writeRecord(record);
      break;
    }
    if (!isSameProcess(record.pid, record.pidStart)) throw failed("exited during setup");
    if (Date.now() > deadline) throw failed("did not start within 10 s");
    await sleep(10);
  }
  const parent = record.initPid ?? record.pid;
  for (;;) {
    const main = listPids().find((pid) => readProcStat(pid)?.ppid === parent);
    if (main !== undefined) {
      const cmd = readCmdline(main);
      // The entry script execs the main command in place (which may exec again): anything but the
      // entry script, or a bridge it is still starting, is the main command running. A child that
      // still has its parent's command line has not exec'd anything yet.
      const forked = cmd.join("\0") === readCmdline(parent).join("\0");
      // A helper is its binary (argv[0]) or, for a script, the interpreter's first argument.
      const helper = cmd.slice(0, 2).some((arg) => arg === helpers.socat || arg === helpers.prlimit);
      if (cmd.length > 0 && !forked && cmd[1] !== prepared.entryAsSeen && !helper) return;
    }
    if (!isRunning(record)) {
      // The supervisor writes the exit code right after bwrap returns.
      for (let i = 0; i < 100 && isSameProcess(record.pid, record.pidStart); i++) await sleep(10);
      const code = readNumber(paths.exitCode);
      if (code === EXIT_BRIDGE_FAILED || code === 125) throw failed(`failed to start (exit ${code})`);
      return; // The main command ran and already finished; status reports the exit code.
    }
    if (Date.now() > deadline) throw failed("bridges did not come up within 10 s");
    await sleep(10);
  }
}
