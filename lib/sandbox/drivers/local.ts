import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import { constants as osConstants } from "node:os";
import path from "node:path";

import { log } from "@/lib/log";
import { connectPty, type PtyConnection, type PtyEvents } from "@/lib/pty/client";

import type {
  AppliedLimits,
  ExecOptions,
  ExecResult,
  Isolation,
  LaunchSpec,
  Preflight,
  PtyInfo,
  PtySpec,
  ResourceLimits,
  SandboxDriver,
  SandboxHandle,
  StopOptions,
} from "../types";
import { SandboxError } from "../types";
import {
  assertEnv,
  buildBwrapArgs,
  buildEntryScript,
  DEFAULT_PATH,
  type EntryBridges,
  type HiddenPath,
  SANDBOX_HOME,
  SANDBOX_RUN,
  SANDBOX_WORKSPACE,
  sandboxEnv,
  type SessionPaths,
  sessionPaths,
  shellQuote,
  systemRootArgs,
} from "./bwrap-args";
import { HOST_PYTHON, seccompFilter, seccompLoader, seccompSupported, writeSeccompFilter } from "../seccomp";
import { probeHostRoot, writeSandboxEtc } from "./host-root";

/*
 * The local driver: one bubblewrap sandbox per session, on this machine.
 *
 * Process tree: server → `sh` supervisor (own session and process group) → bwrap → the sandbox's init
 * (pid 1 inside) → `sh entry.sh` → the main command. The supervisor exists so that the sandbox outlives
 * a server restart although bwrap runs with --die-with-parent: bwrap's parent is the supervisor, not the
 * server. Killing the supervisor's group kills bwrap, whose init death tears down the pid namespace.
 *
 * Everything needed later is in <sessionDir>/run/ (never visible inside the sandbox): sandbox.json
 * (pids with their /proc start times, so a reused pid is not mistaken for the sandbox), the log, the
 * exit code and the entry script. A new driver instance on the same root finds sandboxes by scanning.
 * Of run/ the sandbox sees only sock/ (read-write: the sockets of its reverse bridges) and listen/
 * (read-only: Hangar's listeners it connects to, which it cannot replace, remove or chmod).
 *
 * Nothing the host reads back goes through a path the sandbox can write. The supervisor opens the
 * host-only run/status.jsonl and hands it to the main process as fd 4 (HANGAR_STATUS_FD), next to
 * bwrap's own status on fd 3; the main process's stdin is a pipe from the server (LaunchSpec.stdin:
 * the boot spec, never on disk). The sockets of reverse bridges are hard-linked into the host-only
 * run/tunnels/ once, as soon as the entry script has them (before the main command runs), and only
 * if they are sockets: a symlink the sandbox plants in sock/ later leads nowhere.
 *
 * exec uses `nsenter` into the init's namespaces rather than an in-sandbox helper: it needs nothing
 * running inside, works unchanged for adopted sandboxes (only the recorded pid), and gives real exit
 * codes and separate stdout/stderr. Entering the user namespace grants capabilities there, but with
 * --preserve-credentials the program keeps uid 1000, which is not root in that namespace, so execve
 * drops them again (CapEff 0); setpriv adds no_new_privs. The helper first joins the sandbox's cgroup
 * and rlimits, so exec'd commands count against the same caps.
 *
 * The root: inside the user namespace uid 1000 is the host uid that runs the server, so any host file
 * that uid can read is readable from the sandbox if it is mounted. So the root is an allow-list, not
 * the host's root with holes: an empty read-only tmpfs holding /usr and the library folders, a minimal
 * /etc (see bwrap-args.ts), the session's folders, Hangar's read-only paths and node's folder. Hidden
 * paths only matter inside those. Run Hangar as a dedicated unprivileged user all the same: then even
 * a file under /usr that only root may read stays unreadable, and the sandbox holds no root-owned
 * files at all (README: "Running as an unprivileged user").
 */

const STATE_VERSION = 1;
const LOG_MAX_BYTES = 5 * 1024 * 1024;
const EXEC_MAX_OUTPUT = 16 * 1024 * 1024;
const START_TIMEOUT_MS = 10_000;
const EXIT_BRIDGE_FAILED = 97;
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const PTY_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const PTY_HOLDER = path.join(process.cwd(), "lib", "pty", "holder.mjs");

type Binaries = Record<"bwrap" | "socat" | "nsenter" | "setpriv" | "prlimit", string>;

export type DriverOptions = {
  /** Parent folder of all session dirs; scanned to find sandboxes after a restart. */
  root: string;
  /** "off" skips cgroups and uses rlimits (tests, or hosts where cgroups misbehave). */
  cgroups?: "auto" | "off";
  logMaxBytes?: number;
  logCheckMs?: number;
  binaries?: Partial<Binaries>;
};

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

// ---------------------------------------------------------------------------------------------------
// /proc

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

function isLive(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== "Z" && state !== "X";
}

function listPids(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function readCmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  } catch {
    return [];
  }
}

function readLink(file: string): string | null {
  try {
    return fs.readlinkSync(file);
  } catch {
    return null;
  }
}

/** The server and its ancestors: never signalled, whatever a scan matches. */
function protectedPids(): Set<number> {
  const pids = new Set([1, process.pid]);
  for (let pid = process.ppid; pid > 1 && !pids.has(pid); pid = readProcStat(pid)?.ppid ?? 0) pids.add(pid);
  return pids;
}

// ---------------------------------------------------------------------------------------------------
// Files

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

function writeFileAtomic(file: string, text: string, mode = 0o600) {
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

function tail(file: string, bytes = 2048): string {
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

function readNumber(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

// Next's types mark NODE_ENV as required; a sandbox environment deliberately has only what it is given.
const asProcessEnv = (env: Record<string, string>) => env as NodeJS.ProcessEnv;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fd on which the main process finds the host-only status file (run/status.jsonl). */
export const STATUS_FD = 4;
/** The fd on which bwrap reads the seccomp filter (run/seccomp.bpf), given to bwrap alone. */
const SECCOMP_FD = 5;

/**
 * Takes the socket the sandbox made for a reverse bridge into the host-only tunnels folder. link(2)
 * links the entry itself, never what a symlink names, and the link is kept only if it is a socket:
 * whatever the sandbox puts in run/sock/, the host connects to nothing but its own socket files.
 */
export function linkTunnel(paths: SessionPaths, name: string) {
  const target = path.join(paths.tunnels, name);
  fs.mkdirSync(paths.tunnels, { recursive: true, mode: 0o700 });
  fs.rmSync(target, { force: true });
  const refuse = (why: string) =>
    new SandboxError(
      "invalid_spec",
      `The sandbox's ${name} ${why}: Hangar connects only to a socket the sandbox made there`,
    );
  try {
    fs.linkSync(path.join(paths.sock, name), target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw refuse(code === "ENOENT" ? "is missing" : `cannot be taken (${code ?? "error"})`);
  }
  if (!fs.lstatSync(target).isSocket()) {
    fs.rmSync(target, { force: true });
    throw refuse("is not a socket (a link or a file was put in its place)");
  }
}

/** A session's terminals live in run/pty/ (host only): <name>.sock, <name>.pid, <name>.log. */
function ptyFiles(sessionDir: string, name: string) {
  const dir = path.join(sessionDir, "run", "pty");
  return {
    dir,
    socket: path.join(dir, `${name}.sock`),
    pid: path.join(dir, `${name}.pid`),
    log: path.join(dir, `${name}.log`),
  };
}

/** The holder's pid when its pid file names a live holder process (guards against pid reuse). */
function runningHolder(pidFile: string): number | null {
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
function stopHolders(sessionDir: string) {
  const dir = path.join(sessionDir, "run", "pty");
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

// ---------------------------------------------------------------------------------------------------
// Resource limits: cgroup v2, cgroup v1, then rlimits

type CgroupPlan = { mechanism: "cgroup-v1" | "cgroup-v2"; dirs: string[]; notes: string[] };

type Hierarchy = { mount: string; root: string; own: string };

function readHierarchies(): { v2?: Hierarchy; v1: Map<string, Hierarchy> } {
  const own = new Map<string, string>();
  for (const line of fs.readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, controllers, p] = line.split(":");
    if (p === undefined || controllers === undefined) continue;
    for (const c of controllers === "" ? ["<v2>"] : controllers.split(",")) own.set(c, p);
  }
  const v1 = new Map<string, Hierarchy>();
  let v2: Hierarchy | undefined;
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const f = left.split(" ");
    const [fstype, , superOptions = ""] = right.split(" ");
    const root = f[3] ?? "/";
    const mount = f[4] ?? "";
    if (fstype === "cgroup2" && own.has("<v2>")) v2 = { mount, root, own: own.get("<v2>")! };
    if (fstype !== "cgroup") continue;
    for (const c of ["memory", "pids"]) {
      if (superOptions.split(",").includes(c) && own.has(c)) v1.set(c, { mount, root, own: own.get(c)! });
    }
  }
  return { v2, v1 };
}

function hierarchyDir(h: Hierarchy): string {
  const rel = h.root !== "/" && h.own.startsWith(h.root) ? h.own.slice(h.root.length) : h.own;
  return path.join(h.mount, rel);
}

function writeCg(dir: string, file: string, value: string) {
  fs.writeFileSync(path.join(dir, file), value);
}

/*
 * Sandbox cgroups nest under the server's own cgroup (hangar/<sessionId>), so the server's own limits
 * and accounting still cover its sandboxes. v2 needs the controllers delegated to that subtree.
 */
function createCgroups(sessionId: string, limits: ResourceLimits): CgroupPlan | null {
  const wanted = { memory: limits.memoryMiB !== undefined, pids: limits.pids !== undefined };
  if (!wanted.memory && !wanted.pids) return null;
  let found: ReturnType<typeof readHierarchies>;
  try {
    found = readHierarchies();
  } catch {
    return null;
  }
  const notes: string[] = [];
  if (found.v2) {
    const base = hierarchyDir(found.v2);
    const dir = path.join(base, "hangar", sessionId);
    try {
      const available = fs.readFileSync(path.join(base, "cgroup.controllers"), "utf8").split(/\s+/);
      if (available.includes("memory") && available.includes("pids")) {
        writeCg(base, "cgroup.subtree_control", "+memory +pids");
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        writeCg(path.dirname(dir), "cgroup.subtree_control", "+memory +pids");
        fs.mkdirSync(dir, { recursive: true });
        if (limits.memoryMiB !== undefined) {
          writeCg(dir, "memory.max", String(limits.memoryMiB * 1024 * 1024));
          try {
            writeCg(dir, "memory.swap.max", "0");
          } catch {
            notes.push("memory.swap.max not writable: swap is not capped");
          }
        }
        if (limits.pids !== undefined) writeCg(dir, "pids.max", String(limits.pids));
        return { mechanism: "cgroup-v2", dirs: [dir], notes };
      }
    } catch (err) {
      removeCgroupDirs([dir]);
      notes.push(`cgroup v2 unusable under ${base}: ${(err as Error).message}`);
    }
  }
  const dirs: string[] = [];
  try {
    for (const controller of ["memory", "pids"] as const) {
      if (!wanted[controller]) continue;
      const h = found.v1.get(controller);
      if (!h) throw new Error(`no cgroup v1 ${controller} hierarchy`);
      const dir = path.join(hierarchyDir(h), "hangar", sessionId);
      fs.mkdirSync(dir, { recursive: true });
      dirs.push(dir);
      if (controller === "pids") {
        writeCg(dir, "pids.max", String(limits.pids));
        continue;
      }
      const bytes = String(limits.memoryMiB! * 1024 * 1024);
      writeCg(dir, "memory.limit_in_bytes", bytes);
      try {
        writeCg(dir, "memory.memsw.limit_in_bytes", bytes);
      } catch {
        notes.push("memory.memsw.limit_in_bytes not writable: swap is not capped");
      }
    }
    return { mechanism: "cgroup-v1", dirs, notes };
  } catch (err) {
    removeCgroupDirs(dirs);
    notes.push(`cgroup v1 unusable: ${(err as Error).message}`);
    log.debug("sandbox cgroups unavailable", { sessionId, notes });
    return null;
  }
}

function cgroupPids(dirs: string[]): number[] {
  const pids: number[] = [];
  for (const dir of dirs) {
    try {
      for (const line of fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n")) {
        if (line) pids.push(Number(line));
      }
    } catch {
      // Already removed.
    }
  }
  return pids;
}

/** Removes the session cgroups (retrying while the last tasks leave), then empty `hangar/` parents. */
async function removeCgroups(dirs: string[]) {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (removeCgroupDirs(dirs)) return;
    await sleep(40);
  }
  log.warn("sandbox cgroup not removed", { dirs });
}

function removeCgroupDirs(dirs: string[]): boolean {
  let done = true;
  for (const dir of dirs) {
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") done = false;
      continue;
    }
    try {
      fs.rmdirSync(path.dirname(dir));
    } catch {
      // Other sandboxes still use it.
    }
  }
  return done;
}

type LimitPlan = { applied: AppliedLimits; cgroups: string[]; rlimits: string[] };

function planLimits(sessionId: string, limits: ResourceLimits, cgroupMode: "auto" | "off"): LimitPlan {
  const rlimits: string[] = [];
  if (limits.nofile !== undefined) rlimits.push(`--nofile=${limits.nofile}:${limits.nofile}`);
  const cg = cgroupMode === "auto" ? createCgroups(sessionId, limits) : null;
  if (cg) {
    return {
      applied: { mechanism: cg.mechanism, ...limits, notes: cg.notes },
      cgroups: cg.dirs,
      rlimits,
    };
  }
  const applied: AppliedLimits = { mechanism: "none", notes: [], nofile: limits.nofile };
  if (limits.memoryMiB !== undefined) {
    // RLIMIT_DATA, not RLIMIT_AS: Node reserves gigabytes of address space it never touches and
    // aborts at start under an AS cap of 512 MiB, while DATA counts only private writable memory.
    rlimits.push(`--data=${limits.memoryMiB * 1024 * 1024}`);
    applied.memoryMiB = limits.memoryMiB;
    applied.notes.push("memory: RLIMIT_DATA caps each process's private memory, not the sandbox total");
  }
  if (limits.pids !== undefined) {
    if (process.getuid?.() === 0) {
      applied.notes.push(
        "pids: not enforced; RLIMIT_NPROC counts per host uid and the kernel exempts root, which " +
          "the sandbox's uid maps to",
      );
    } else {
      rlimits.push(`--nproc=${limits.pids}:${limits.pids}`);
      applied.pids = limits.pids;
      applied.notes.push("pids: RLIMIT_NPROC counts every process of this host uid, not one sandbox");
    }
  }
  if (rlimits.length > 0) applied.mechanism = "rlimit";
  return { applied, cgroups: [], rlimits };
}

function joinLimitsScript(record: Pick<SandboxRecord, "cgroups" | "rlimits">, prlimit: string): string[] {
  const lines = record.cgroups.map(
    (dir) =>
      `echo $$ > ${shellQuote(path.join(dir, "cgroup.procs"))} || fail ${shellQuote(`cannot join ${dir}`)}`,
  );
  if (record.rlimits.length > 0) {
    lines.push(`${shellQuote(prlimit)} --pid $$ ${record.rlimits.join(" ")} || fail "prlimit failed"`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------
// The shared supervised driver (the process driver reuses it with no namespaces)

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

export abstract class SupervisedDriver implements SandboxDriver {
  abstract readonly name: string;
  abstract readonly isolation: Isolation;
  readonly root: string;
  protected readonly bin: Binaries;
  private readonly cgroupMode: "auto" | "off";
  private readonly logMaxBytes: number;
  private readonly logCheckMs: number;
  private readonly inflight = new Map<string, Promise<SandboxHandle>>();
  private readonly dirs = new Map<string, string>();
  private readonly watchedLogs = new Map<string, string>();
  private readonly warmHolders = new Map<string, ChildProcess>();
  private logTimer: NodeJS.Timeout | null = null;

  constructor(options: DriverOptions) {
    if (!path.isAbsolute(options.root)) throw new Error(`Sandbox root must be absolute: ${options.root}`);
    this.root = path.resolve(options.root);
    this.cgroupMode = options.cgroups ?? "auto";
    this.logMaxBytes = options.logMaxBytes ?? LOG_MAX_BYTES;
    this.logCheckMs = options.logCheckMs ?? 2000;
    const pick = (name: keyof Binaries) => options.binaries?.[name] ?? findExecutable(name) ?? name;
    this.bin = {
      bwrap: pick("bwrap"),
      socat: pick("socat"),
      nsenter: pick("nsenter"),
      setpriv: pick("setpriv"),
      prlimit: pick("prlimit"),
    };
  }

  abstract preflight(): Promise<Preflight>;
  /** The spec's environment plus what the driver adds (HOME, PATH when missing). */
  protected abstract environment(spec: LaunchSpec, paths: SessionPaths): Record<string, string>;
  protected abstract prepare(spec: LaunchSpec, paths: SessionPaths, env: Record<string, string>): Prepared;
  protected abstract execCommand(
    record: SandboxRecord,
    argv: string[],
    env: Record<string, string>,
    cwd: string | undefined,
  ): { command: string[]; cwd: string };
  /** Called once when a sandbox is first seen gone: frees what the driver made outside run/. */
  protected released(_record: SandboxRecord): void {}

  async launch(spec: LaunchSpec): Promise<SandboxHandle> {
    this.validate(spec);
    const pending = this.inflight.get(spec.sessionId);
    if (pending) return pending;
    const promise = this.launchOnce(spec).finally(() => this.inflight.delete(spec.sessionId));
    this.inflight.set(spec.sessionId, promise);
    return promise;
  }

  async status(sessionId: string): Promise<SandboxHandle | null> {
    const record = this.findRecord(sessionId);
    return record ? this.reconcile(record) : null;
  }

  async list(): Promise<SandboxHandle[]> {
    const handles: SandboxHandle[] = [];
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return [];
    }
    for (const name of names) {
      const record = this.readRecord(path.join(this.root, name));
      if (!record) continue;
      this.dirs.set(record.sessionId, record.sessionDir);
      handles.push(await this.reconcile(record));
    }
    return handles;
  }

  /** Restores a missing tunnel link (launch made them); refuses an entry that is not a socket. */
  async openTunnels(sessionId: string): Promise<void> {
    const record = this.runningRecord(sessionId);
    const paths = sessionPaths(record.sessionDir);
    for (const name of record.reverse ?? []) {
      try {
        if (fs.lstatSync(path.join(paths.tunnels, name)).isSocket()) continue;
      } catch {
        // Not linked yet.
      }
      linkTunnel(paths, name);
    }
  }

  async commandLines(sessionId: string): Promise<string[][]> {
    const record = this.findRecord(sessionId);
    if (!record || !this.isRunning(record)) return [];
    return this.sandboxPids(record)
      .map(readCmdline)
      .filter((cmd) => cmd.length > 0);
  }

  async stop(sessionId: string, options: StopOptions = {}): Promise<void> {
    await this.inflight.get(sessionId)?.catch(() => undefined);
    const record = this.findRecord(sessionId);
    if (record) {
      stopHolders(record.sessionDir);
      for (const [key, holder] of this.warmHolders) {
        if (key.startsWith(`${sessionId}/`)) holder.kill("SIGKILL");
      }
      if (this.isRunning(record)) {
        await this.killSandbox(record, options.graceMs ?? 1000);
        log.info("sandbox stopped", { sessionId, driver: this.name });
      }
      await this.reconcile(record);
    }
    if (options.removeDir) {
      const dir = record?.sessionDir ?? this.dirs.get(sessionId);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      this.dirs.delete(sessionId);
    }
  }

  async exec(sessionId: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0 || !argv[0]) throw new SandboxError("invalid_spec", "exec needs a command");
    if (argv[0].includes("=")) throw new SandboxError("invalid_spec", "exec command name contains '='");
    const record = this.runningRecord(sessionId);
    this.checkLog(record);
    const env = { ...record.env, ...this.extraEnv(options.env) };
    const { command, cwd } = this.execCommand(record, argv, env, options.cwd);
    return runCommand(["/bin/sh", "-c", this.joinScript(record), "hangar-exec", ...command], {
      cwd,
      stdin: options.stdin,
      timeoutMs: options.timeoutMs,
    });
  }

  spawn(sessionId: string, argv: string[], options: { env?: Record<string, string>; cwd?: string } = {}) {
    if (argv.length === 0 || !argv[0]) throw new SandboxError("invalid_spec", "spawn needs a command");
    const record = this.runningRecord(sessionId);
    const { command, cwd } = this.execCommand(
      record,
      argv,
      { ...record.env, ...this.extraEnv(options.env) },
      options.cwd,
    );
    // nsenter forks into the pid namespace and does not pass signals on, so the program gets its own
    // process group and kill() signals the whole group: the program inside receives it.
    const child = spawn("/bin/sh", ["-c", this.joinScript(record), "hangar-spawn", ...command], {
      cwd,
      stdio: ["pipe", "pipe", "pipe"],
      env: asProcessEnv({ PATH: DEFAULT_PATH }),
      detached: true,
    });
    const killOne = child.kill.bind(child);
    child.kill = (signal?: NodeJS.Signals | number) => {
      if (child.pid === undefined || child.exitCode !== null) return killOne(signal);
      try {
        process.kill(-child.pid, signal ?? "SIGTERM");
        return true;
      } catch {
        return killOne(signal);
      }
    };
    return child;
  }

  async startPty(sessionId: string, spec: PtySpec): Promise<PtyInfo> {
    if (!PTY_NAME.test(spec.name))
      throw new SandboxError("invalid_spec", `Invalid terminal name: ${spec.name}`);
    if (spec.argv.length === 0 || !spec.argv[0])
      throw new SandboxError("invalid_spec", "A terminal needs a command");
    const record = this.runningRecord(sessionId);
    const files = ptyFiles(record.sessionDir, spec.name);
    const running = runningHolder(files.pid);
    if (running && fs.existsSync(files.socket))
      return { name: spec.name, holderPid: running, created: false };

    const env = { ...record.env, ...this.extraEnv(spec.env) };
    const { command, cwd } = this.execCommand(record, spec.argv, env, spec.cwd);
    fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    fs.rmSync(files.socket, { force: true });
    const holder = this.takeWarmHolder(sessionId, spec.name) ?? this.spawnHolder(files);
    holder.stdin!.end(
      JSON.stringify({
        socketPath: files.socket,
        pidPath: files.pid,
        argv: ["/bin/sh", "-c", this.joinScript(record), "hangar-pty", ...command],
        env: { PATH: DEFAULT_PATH, LANG: "C.UTF-8" },
        cwd,
        cols: spec.cols,
        rows: spec.rows,
        title: spec.title ?? path.basename(spec.argv[0]),
        watchPid: record.pid,
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
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(runningHolder(files.pid) && fs.existsSync(files.socket))) {
      if (Date.now() > deadline) {
        holder.kill("SIGKILL");
        throw new SandboxError("launch_failed", `The terminal holder did not start: ${tail(files.log)}`);
      }
      await Promise.race([sleep(10), exited]);
    }
    holder.removeAllListeners("exit");
    return { name: spec.name, holderPid: holder.pid!, created: true };
  }

  /**
   * Starts a terminal holder ahead of its program: it loads its modules while the sandbox boots, and
   * startPty then only hands it the program. Stopping the sandbox ends it.
   */
  prewarmPty(sessionId: string, name: string): void {
    if (!PTY_NAME.test(name)) throw new SandboxError("invalid_spec", `Invalid terminal name: ${name}`);
    const key = `${sessionId}/${name}`;
    if (this.warmHolders.has(key)) return;
    const record = this.runningRecord(sessionId);
    const files = ptyFiles(record.sessionDir, name);
    fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    const holder = this.spawnHolder(files);
    // Its stdin stays open until startPty writes the program: do not let that keep the server alive.
    (holder.stdin as unknown as { unref?: () => void }).unref?.();
    this.warmHolders.set(key, holder);
    holder.once("exit", () => {
      if (this.warmHolders.get(key) === holder) this.warmHolders.delete(key);
    });
  }

  private takeWarmHolder(sessionId: string, name: string): ChildProcess | undefined {
    const key = `${sessionId}/${name}`;
    const holder = this.warmHolders.get(key);
    this.warmHolders.delete(key);
    return holder && holder.exitCode === null && holder.signalCode === null ? holder : undefined;
  }

  /** Detached and in its own session, like the sandbox supervisor: the terminal outlives a server
   * restart. Its config (which holds the session's environment) comes through stdin, never the disk. */
  private spawnHolder(files: ReturnType<typeof ptyFiles>): ChildProcess {
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

  async attachPty(sessionId: string, name: string, events: Partial<PtyEvents>): Promise<PtyConnection> {
    if (!PTY_NAME.test(name)) throw new SandboxError("invalid_spec", `Invalid terminal name: ${name}`);
    const record = this.findRecord(sessionId);
    if (!record) throw new SandboxError("not_found", `No sandbox for session ${sessionId}`);
    const files = ptyFiles(record.sessionDir, name);
    if (!runningHolder(files.pid))
      throw new SandboxError("not_running", `No terminal "${name}" in ${sessionId}`);
    try {
      return await connectPty(files.socket, events);
    } catch (err) {
      throw new SandboxError("not_running", `Terminal "${name}" of ${sessionId}: ${(err as Error).message}`);
    }
  }

  // -------------------------------------------------------------------------------------------------

  private runningRecord(sessionId: string): SandboxRecord {
    const record = this.findRecord(sessionId);
    if (!record) throw new SandboxError("not_found", `No sandbox for session ${sessionId}`);
    if (!this.isRunning(record)) throw new SandboxError("not_running", `Sandbox ${sessionId} is not running`);
    return record;
  }

  private extraEnv(env: Record<string, string> | undefined): Record<string, string> {
    try {
      return assertEnv(env ?? {});
    } catch (err) {
      throw new SandboxError("invalid_spec", (err as Error).message);
    }
  }

  /** The wrapper every program started in a running sandbox goes through: join its cgroup and rlimits. */
  private joinScript(record: SandboxRecord): string {
    return [
      'fail() { echo "hangar: $1" >&2; exit 125; }',
      ...joinLimitsScript(record, this.bin.prlimit),
      'exec "$@"',
    ].join("\n");
  }

  private validate(spec: LaunchSpec) {
    const bad = (msg: string) => new SandboxError("invalid_spec", msg);
    if (!SESSION_ID.test(spec.sessionId)) throw bad(`Invalid session id: ${spec.sessionId}`);
    if (!path.isAbsolute(spec.sessionDir)) throw bad("sessionDir must be absolute");
    if (path.dirname(path.resolve(spec.sessionDir)) !== this.root) {
      throw bad(`sessionDir must sit directly in the driver root ${this.root}`);
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

  private async launchOnce(spec: LaunchSpec): Promise<SandboxHandle> {
    const paths = sessionPaths(path.resolve(spec.sessionDir));
    const previous = this.readRecord(paths.root);
    if (previous && previous.sessionId !== spec.sessionId) {
      throw new SandboxError("invalid_spec", `${paths.root} belongs to session ${previous.sessionId}`);
    }
    if (previous) {
      const handle = await this.reconcile(previous);
      if (handle.state === "running") return handle;
    }

    const dirs = [paths.root, paths.home, paths.workspace, paths.tmp, paths.run, paths.sock];
    for (const dir of [...dirs, paths.listen, paths.tunnels]) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    for (const file of [paths.exitCode, paths.bwrapStatus, paths.status]) fs.rmSync(file, { force: true });
    const reverse = (spec.reverseBridges ?? []).map((b) => path.basename(b.socketPath));
    for (const name of reverse) fs.rmSync(path.join(paths.tunnels, name), { force: true });

    let env: Record<string, string>;
    let prepared: Prepared;
    try {
      env = this.environment(spec, paths);
      // Only the main process learns where its status goes; exec'd programs get `env`.
      prepared = this.prepare(spec, paths, { ...env, HANGAR_STATUS_FD: String(STATUS_FD) });
    } catch (err) {
      throw err instanceof SandboxError ? err : new SandboxError("invalid_spec", (err as Error).message);
    }
    writeFileAtomic(paths.entry, buildEntryScript(prepared.bridges, this.bin.socat), 0o500);

    const limits = planLimits(spec.sessionId, spec.limits ?? {}, this.cgroupMode);
    if (limits.applied.notes.length > 0) {
      log.warn("sandbox limits partly applied", { sessionId: spec.sessionId, ...limits.applied });
    }
    const script = [
      `fail() { echo "hangar: $1" >&2; echo 125 > ${shellQuote(paths.exitCode)}; exit 125; }`,
      ...joinLimitsScript(limits, this.bin.prlimit),
      // Not `exec`: the supervisor must stay bwrap's parent, and records the exit code.
      `"$@"${prepared.statusFd ? ` 3>${shellQuote(paths.bwrapStatus)}` : ""} ${STATUS_FD}>>${shellQuote(paths.status)}` +
        (prepared.seccompFile ? ` ${SECCOMP_FD}<${shellQuote(prepared.seccompFile)}` : ""),
      `echo $? > ${shellQuote(paths.exitCode)}`,
      // Without a pid namespace, leftovers of the main command (bridges) go with it.
      ...(this.isolation === "none" ? ["kill -KILL 0"] : []),
    ].join("\n");

    rotateLog(paths.log, this.logMaxBytes);
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
    if (!pid || pidStart === undefined) {
      await removeCgroups(limits.cgroups);
      throw new SandboxError("launch_failed", `Could not start the sandbox supervisor: ${tail(paths.log)}`);
    }

    const record: SandboxRecord = {
      version: STATE_VERSION,
      driver: this.name,
      isolation: this.isolation,
      sessionId: spec.sessionId,
      sessionDir: paths.root,
      pid,
      pidStart,
      ...(reverse.length > 0 && { reverse }),
      startedAt: new Date().toISOString(),
      env,
      limits: limits.applied,
      cgroups: limits.cgroups,
      rlimits: limits.rlimits,
    };
    this.writeRecord(record);
    this.dirs.set(spec.sessionId, paths.root);
    this.watchLog(record);

    try {
      await this.waitStarted(record, paths, prepared);
      // The entry script made the sockets and nothing but it has run yet: take them now.
      for (const name of reverse) {
        try {
          linkTunnel(paths, name);
        } catch (err) {
          if (this.isRunning(record)) throw err; // else the main command is done: status says so
        }
      }
    } catch (err) {
      await this.killSandbox(record, 0);
      await this.reconcile(record);
      throw err;
    }
    log.info("sandbox launched", {
      sessionId: spec.sessionId,
      driver: this.name,
      pid,
      initPid: record.initPid,
      limits: limits.applied.mechanism,
    });
    return this.reconcile(record);
  }

  /** Waits for bwrap's child pid (when isolated) and until entry.sh has exec'd the main command. */
  private async waitStarted(record: SandboxRecord, paths: SessionPaths, prepared: Prepared) {
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
        this.writeRecord(record);
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
        if (cmd.length > 0 && !forked && cmd[1] !== prepared.entryAsSeen && cmd[0] !== this.bin.socat) return;
      }
      if (!this.isRunning(record)) {
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

  private isRunning(record: SandboxRecord): boolean {
    if (!isSameProcess(record.pid, record.pidStart)) return false;
    return record.initPid === undefined || isSameProcess(record.initPid, record.initStart);
  }

  /** Current handle; the first time it sees a sandbox gone, it removes its cgroups and notes when. */
  private async reconcile(record: SandboxRecord): Promise<SandboxHandle> {
    const running = this.isRunning(record);
    const paths = sessionPaths(record.sessionDir);
    if (!running && !record.exitedAt) {
      await removeCgroups(record.cgroups);
      record.exitedAt = new Date().toISOString();
      this.writeRecord(record);
      this.watchedLogs.delete(record.sessionId);
      this.released(record);
    }
    if (running) this.checkLog(record);
    const exitCode = running ? undefined : readNumber(paths.exitCode);
    return {
      sessionId: record.sessionId,
      driver: record.driver,
      isolation: record.isolation,
      state: running ? "running" : "exited",
      pid: record.pid,
      ...(record.initPid !== undefined && { initPid: record.initPid }),
      startedAt: record.startedAt,
      ...(!running && { exitedAt: record.exitedAt }),
      ...(exitCode !== undefined && { exitCode }),
      sessionDir: record.sessionDir,
      logPath: paths.log,
      limits: record.limits,
    };
  }

  /**
   * Every process of the sandbox we can find: its process group, descendants, pid namespace and
   * cgroup. Each source is checked to belong to this sandbox alone, because everything returned is
   * SIGKILLed: a pid namespace or cgroup shared with the server would take the whole machine down.
   */
  private sandboxPids(record: SandboxRecord): number[] {
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
      if (this.isolation === "none") {
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

  private async killSandbox(record: SandboxRecord, graceMs: number) {
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
        this.isolation === "none" || readLink(`/proc/${pid}/ns/pid`) === record.pidNamespace;
      signalAll(
        "SIGTERM",
        this.sandboxPids(record).filter((p) => p !== record.pid && p !== record.initPid && inside(p)),
      );
      const deadline = Date.now() + graceMs;
      while (this.isRunning(record) && Date.now() < deadline) await sleep(20);
    }
    for (let round = 0; round < 100; round++) {
      const pids = this.sandboxPids(record);
      if (pids.length === 0) return;
      signalAll("SIGKILL", pids);
      await sleep(round < 10 ? 10 : 50);
    }
    log.warn("sandbox processes survived SIGKILL", { sessionId: record.sessionId });
  }

  private findRecord(sessionId: string): SandboxRecord | null {
    const cached = this.dirs.get(sessionId);
    const candidates = [...(cached ? [cached] : []), path.join(this.root, sessionId)];
    for (const dir of candidates) {
      const record = this.readRecord(dir);
      if (record?.sessionId === sessionId) return record;
    }
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      // No root yet: nothing launched.
    }
    for (const name of names) {
      const record = this.readRecord(path.join(this.root, name));
      if (record?.sessionId === sessionId) {
        this.dirs.set(sessionId, record.sessionDir);
        return record;
      }
    }
    return null;
  }

  private readRecord(sessionDir: string): SandboxRecord | null {
    try {
      const record = JSON.parse(fs.readFileSync(sessionPaths(sessionDir).state, "utf8")) as SandboxRecord;
      if (record.version !== STATE_VERSION || record.driver !== this.name) return null;
      if (path.resolve(record.sessionDir) !== path.resolve(sessionDir)) return null;
      return record;
    } catch {
      return null;
    }
  }

  private writeRecord(record: SandboxRecord) {
    writeFileAtomic(sessionPaths(record.sessionDir).state, JSON.stringify(record, null, 2) + "\n");
  }

  private checkLog(record: SandboxRecord) {
    if (rotateLog(sessionPaths(record.sessionDir).log, this.logMaxBytes)) {
      log.debug("sandbox log rotated", { sessionId: record.sessionId });
    }
  }

  private watchLog(record: SandboxRecord) {
    this.watchedLogs.set(record.sessionId, sessionPaths(record.sessionDir).log);
    if (this.logTimer) return;
    this.logTimer = setInterval(() => {
      for (const file of this.watchedLogs.values()) rotateLog(file, this.logMaxBytes);
    }, this.logCheckMs);
    this.logTimer.unref();
  }
}

function readChildPid(statusFile: string): number | undefined {
  try {
    const match = /"child-pid":\s*(\d+)/.exec(fs.readFileSync(statusFile, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

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

// ---------------------------------------------------------------------------------------------------
// bubblewrap

/**
 * The spec's paths to hide, by their real location (hiding /var/run means hiding /run). With the
 * allow-list root they only matter inside what the sandbox sees (e.g. a data folder under a read-only
 * path or /usr); bwrap-args drops the rest.
 */
function hiddenPaths(paths: string[]): HiddenPath[] {
  const hidden: HiddenPath[] = [];
  for (const p of paths) {
    if (!path.isAbsolute(p)) throw new SandboxError("invalid_spec", `Hidden path must be absolute: ${p}`);
    let real: string;
    try {
      real = fs.realpathSync(p);
    } catch {
      continue; // Nothing there to hide.
    }
    if (real === "/") throw new SandboxError("invalid_spec", `Cannot hide the root folder (${p})`);
    hidden.push({ path: real, kind: fs.statSync(real).isDirectory() ? "dir" : "file" });
  }
  return hidden;
}

/** Why this kernel refuses an unprivileged user namespace, from the knobs distributions use. */
function userNamespaceHints(): string[] {
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, "utf8").trim();
    } catch {
      return undefined;
    }
  };
  const hints: string[] = [];
  if (read("/proc/sys/kernel/unprivileged_userns_clone") === "0")
    hints.push("sysctl kernel.unprivileged_userns_clone=1");
  if (read("/proc/sys/user/max_user_namespaces") === "0") hints.push("sysctl user.max_user_namespaces=15000");
  if (read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") === "1")
    hints.push("an AppArmor profile allowing userns for bwrap (Ubuntu 24.04+)");
  return hints;
}

/*
 * bwrap's --disable-userns nests the sandbox's user namespace inside the one that owns its other
 * namespaces. Root may enter those from the host; any other user needs to be in that outer namespace
 * first (it owns it, so it may), which nsenter 2.38 cannot do (--user-parent came in 2.39). This perl
 * (Debian's essential perl-base) joins it with NS_GET_PARENT + setns and execs nsenter.
 */
const SETNS_SYSCALL: Partial<Record<NodeJS.Architecture, number>> = { x64: 308, arm64: 268 };
const JOIN_OUTER_USERNS = [
  "my ($nr, $pid, @cmd) = @ARGV;",
  'open(my $ns, "<", "/proc/$pid/ns/user") or die "hangar: /proc/$pid/ns/user: $!\n";',
  'my $fd = ioctl($ns, 0xb702, 0) or die "hangar: NS_GET_PARENT: $!\n";',
  'syscall($nr, $fd + 0, 0x10000000) == 0 or die "hangar: setns: $!\n";',
  'exec { $cmd[0] } @cmd or die "hangar: exec $cmd[0]: $!\n";',
].join("\n");

/** What goes before nsenter to enter a sandbox: nothing for root, the perl above for anyone else. */
function outerUserNamespace(initPid: number): string[] {
  if (process.getuid?.() === 0) return [];
  const nr = SETNS_SYSCALL[process.arch];
  if (nr === undefined)
    throw new SandboxError("unavailable", `exec as non-root is not supported on ${process.arch}`);
  return [findExecutable("perl") ?? "perl", "-e", JOIN_OUTER_USERNS, "--", String(nr), String(initPid)];
}

/** The nearest folder of `dir` (itself or a parent) that exists. */
function existingAncestor(dir: string): string {
  let at = dir;
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}

export class LocalDriver extends SupervisedDriver {
  readonly name = "local";
  readonly isolation = "namespaces" as const;

  async preflight(): Promise<Preflight> {
    const problems: string[] = [];
    const notes: string[] = [];
    for (const [name, file] of Object.entries(this.bin)) {
      if (!findExecutable(file))
        problems.push(`${name} not found (Debian: apt-get install bubblewrap socat util-linux)`);
    }
    if (!seccompSupported()) {
      notes.push(`no seccomp filter for ${process.arch}: sandboxes run without one`);
    } else if (!findExecutable(HOST_PYTHON)) {
      problems.push(
        `${HOST_PYTHON} not found: programs started in a sandbox load its seccomp filter with it ` +
          "(Debian: apt-get install python3)",
      );
    }
    const uid = process.getuid?.() ?? 0;
    if (uid === 0) {
      notes.push(
        "running as root: a sandbox's uid is root on the host, so a root-only file in what it sees " +
          "(/usr, Hangar's read-only paths) is readable there; run Hangar as a dedicated user " +
          '(README: "Running as an unprivileged user")',
      );
    } else {
      notes.push(`running as uid ${uid}: a sandbox has this user's rights on host files, never root's`);
      if (!findExecutable("perl") || SETNS_SYSCALL[process.arch] === undefined) {
        problems.push(`entering a sandbox as uid ${uid} needs perl on x64 or arm64 (Debian: perl-base)`);
      }
      const at = existingAncestor(this.root);
      try {
        fs.accessSync(at, fs.constants.W_OK | fs.constants.X_OK);
        const owner = fs.statSync(at).uid;
        if (at === this.root && owner !== uid) throw new Error(`it belongs to uid ${owner}`);
      } catch (err) {
        problems.push(
          `the sandbox folder ${this.root} is not usable by uid ${uid} (${(err as Error).message}): ` +
            "give the data folder to the user Hangar runs as (chown -R)",
        );
      }
    }
    if (problems.length === 0) {
      // The same root every sandbox gets (tmpfs, system folders, /etc allow-list), made read-only.
      // With the seccomp filter on stdin: the kernel must accept it too.
      const filter = seccompSupported() ? seccompFilter() : undefined;
      const probe = spawnSync(
        this.bin.bwrap,
        ["--unshare-user", "--uid", "1000", "--gid", "1000", "--disable-userns", "--unshare-all"].concat(
          ["--die-with-parent", ...systemRootArgs(probeHostRoot()), "--remount-ro", "/"],
          filter ? ["--seccomp", "0"] : [],
          ["--", "/bin/true"],
        ),
        {
          encoding: "utf8",
          timeout: 10_000,
          env: asProcessEnv({ PATH: DEFAULT_PATH }),
          ...(filter && { input: filter }),
        },
      );
      if (probe.status !== 0) {
        const hints = userNamespaceHints();
        problems.push(
          `bwrap cannot start a sandbox: ${(probe.stderr || probe.error?.message || "").trim()}` +
            (hints.length > 0
              ? ` (this kernel restricts user namespaces; allow them: ${hints.join(", ")})`
              : " (Ubuntu 24.04+: allow unprivileged user namespaces for bwrap in AppArmor)"),
        );
      }
    }
    const cg = readHierarchies();
    notes.push(
      cg.v2 ? `cgroup v2 at ${hierarchyDir(cg.v2)}` : "no cgroup v2 hierarchy",
      `cgroup v1 controllers: ${[...cg.v1.keys()].join(", ") || "none"}`,
    );
    if (uid !== 0 && cg.v2) {
      try {
        fs.accessSync(hierarchyDir(cg.v2), fs.constants.W_OK);
      } catch {
        notes.push(
          "this user cannot write its cgroup: sandbox limits fall back to rlimits (memory per " +
            "process, processes per host uid)",
        );
      }
    }
    return { ok: problems.length === 0, problems, notes };
  }

  protected environment(spec: LaunchSpec): Record<string, string> {
    return sandboxEnv(spec.env, SANDBOX_HOME);
  }

  protected prepare(spec: LaunchSpec, paths: SessionPaths, env: Record<string, string>): Prepared {
    const socketBinds: { hostPath: string; sandboxPath: string }[] = [];
    const forward = (spec.bridges ?? []).map((b, i) => {
      const host = path.resolve(b.socketPath);
      if (host.startsWith(paths.listen + "/")) {
        return { port: b.port, connect: `${SANDBOX_RUN}/listen/${path.relative(paths.listen, host)}` };
      }
      // The sandbox could replace a listener there, or remove it.
      if (host.startsWith(paths.sock + "/")) {
        throw new SandboxError(
          "invalid_spec",
          `Bridge socket ${host} sits in the sandbox-writable ${paths.sock}; listen in ${paths.listen}`,
        );
      }
      // Bound as a single file, so other sockets next to it stay out of reach.
      let isSocket = false;
      try {
        isSocket = fs.statSync(host).isSocket();
      } catch {
        // Reported below.
      }
      if (!isSocket) {
        throw new SandboxError(
          "invalid_spec",
          `Bridge socket ${host} does not exist; start its listener before launch, or put it in ${paths.listen}`,
        );
      }
      const sandboxPath = `${SANDBOX_RUN}/bridge/${i}.sock`;
      socketBinds.push({ hostPath: host, sandboxPath });
      return { port: b.port, connect: sandboxPath };
    });
    const reverse = (spec.reverseBridges ?? []).map((b) => ({
      listen: `${SANDBOX_RUN}/sock/${path.basename(b.socketPath)}`,
      port: b.port,
    }));
    const readOnly = (spec.readOnlyPaths ?? []).map((p) => {
      try {
        return fs.realpathSync(p);
      } catch {
        throw new SandboxError("invalid_spec", `Read-only path does not exist: ${p}`);
      }
    });
    const binds = (spec.binds ?? []).map((b) => {
      if (!path.isAbsolute(b.target))
        throw new SandboxError("invalid_spec", `Bind target must be absolute: ${b.target}`);
      try {
        return { ...b, source: fs.realpathSync(b.source) };
      } catch {
        throw new SandboxError("invalid_spec", `Bind source does not exist: ${b.source}`);
      }
    });
    const args = buildBwrapArgs({
      sessionDir: paths.root,
      argv: spec.argv,
      env,
      hide: hiddenPaths(spec.hidePaths ?? []),
      readOnly,
      root: probeHostRoot(),
      etcFiles: writeSandboxEtc(path.join(paths.run, "etc")),
      socketBinds,
      binds,
      statusFd: 3,
      ...(seccompSupported() && { seccompFd: SECCOMP_FD }),
    });
    return {
      command: [this.bin.bwrap, ...args],
      supervisorEnv: { PATH: DEFAULT_PATH },
      cwd: paths.root,
      bridges: { forward, reverse },
      statusFd: true,
      entryAsSeen: `${SANDBOX_RUN}/entry.sh`,
      ...(seccompSupported() && { seccompFile: writeSeccompFilter(paths.seccomp) }),
    };
  }

  protected execCommand(record: SandboxRecord, argv: string[], env: Record<string, string>, cwd?: string) {
    const dir = cwd === undefined ? SANDBOX_WORKSPACE : path.posix.resolve(SANDBOX_WORKSPACE, cwd);
    const command = [
      // The sandbox's own filter, loaded first, so nsenter and all it starts run under it. (Written
      // again if missing: a sandbox launched before filters were loaded gets one for what is started now.)
      ...(seccompSupported()
        ? seccompLoader(writeSeccompFilter(sessionPaths(record.sessionDir).seccomp))
        : []),
      ...outerUserNamespace(record.initPid!),
      this.bin.nsenter,
      ...["-t", String(record.initPid), "-U", "-m", "-n", "-p", "-i", "-u", "--preserve-credentials"],
      // nsenter resolves --wd=<dir> on the host; env changes directory once inside.
      ...["-r", "-w", "--"],
      ...[this.bin.setpriv, "--no-new-privs", "--"],
      ...["/usr/bin/env", "-i", `--chdir=${dir}`, "--", ...Object.entries(env).map(([k, v]) => `${k}=${v}`)],
      ...argv,
    ];
    return { command, cwd: record.sessionDir };
  }
}

export function createLocalDriver(options: DriverOptions): LocalDriver {
  return new LocalDriver(options);
}
