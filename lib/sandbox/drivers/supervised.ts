import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { log } from "@/lib/log";
import { connectPty, type PtyConnection, type PtyEvents } from "@/lib/pty/client";

import { sessionPaths, type SessionPaths } from "../layout";
import {
  SandboxError,
  type ExecOptions,
  type ExecResult,
  type Isolation,
  type LaunchSpec,
  type Preflight,
  type PtyInfo,
  type PtySpec,
  type SandboxDriver,
  type SandboxHandle,
  type StopOptions,
} from "../types";
import { assertEnv, buildEntryScript, DEFAULT_PATH } from "./bwrap-args";
import { watchExitCode } from "./exit-watch";
import { joinLimitsScript, planLimits, removeCgroups } from "./limits";
import { asProcessEnv, findExecutable, readCmdline, runCommand } from "./procs";
import {
  PTY_NAME,
  ptyFiles,
  runInHolder,
  runningHolder,
  spawnHolder,
  stopHolders,
  WarmHolders,
} from "./pty-holders";
import {
  newRecord,
  readNumber,
  readRecord,
  rotateLog,
  tail,
  writeFileAtomic,
  writeRecord,
  type SandboxRecord,
} from "./records";
import { isRunning, killSandbox, sandboxPids } from "./sandbox-procs";
import {
  startSupervisor,
  STATUS_FD,
  supervisorScript,
  validateLaunchSpec,
  waitStarted,
  type Prepared,
} from "./supervisor";
import { linkTunnel, restoreTunnels } from "./tunnels";

/*
 * The shared supervised driver: a detached `sh` supervisor per sandbox that outlives the server, its
 * record in run/, and everything done to a running sandbox (exec, spawn, terminals, stop). The local
 * driver (local.ts) puts bubblewrap between the supervisor and the program; the process driver
 * (process.ts) reuses it with no namespaces.
 */

const LOG_MAX_BYTES = 5 * 1024 * 1024;

export type Binaries = Record<"bwrap" | "socat" | "nsenter" | "setpriv" | "prlimit", string>;

export type DriverOptions = {
  /** Parent folder of all session dirs; scanned to find sandboxes after a restart. */
  root: string;
  /** "off" skips cgroups and uses rlimits (tests, or hosts where cgroups misbehave). */
  cgroups?: "auto" | "off";
  logMaxBytes?: number;
  logCheckMs?: number;
  binaries?: Partial<Binaries>;
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
  private readonly warm = new WarmHolders();
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
    validateLaunchSpec(spec, this.root);
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
      const record = readRecord(path.join(this.root, name), this.name);
      if (!record) continue;
      this.dirs.set(record.sessionId, record.sessionDir);
      handles.push(await this.reconcile(record));
    }
    return handles;
  }

  /** Restores a missing tunnel link (launch made them); refuses an entry that is not a socket. */
  async openTunnels(sessionId: string): Promise<void> {
    const record = this.runningRecord(sessionId);
    restoreTunnels(sessionPaths(record.sessionDir), record.reverse ?? []);
  }

  async commandLines(sessionId: string): Promise<string[][]> {
    const record = this.findRecord(sessionId);
    if (!record || !isRunning(record)) return [];
    return sandboxPids(record, this.isolation)
      .map(readCmdline)
      .filter((cmd) => cmd.length > 0);
  }

  watchExit(sessionId: string, onExit: () => void): { close: () => void } | null {
    const record = this.findRecord(sessionId);
    return record ? watchExitCode(record, onExit) : null;
  }

  async stop(sessionId: string, options: StopOptions = {}): Promise<void> {
    await this.inflight.get(sessionId)?.catch(() => undefined);
    const record = this.findRecord(sessionId);
    if (record) {
      stopHolders(record.sessionDir);
      this.warm.kill(sessionId);
      if (isRunning(record)) {
        await killSandbox(record, this.isolation, options.graceMs ?? 1000);
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
    const holder = this.warm.take(sessionId, spec.name) ?? spawnHolder(files);
    await runInHolder(holder, files, {
      argv: ["/bin/sh", "-c", this.joinScript(record), "hangar-pty", ...command],
      env: { PATH: DEFAULT_PATH, LANG: "C.UTF-8" },
      cwd,
      cols: spec.cols,
      rows: spec.rows,
      title: spec.title ?? path.basename(spec.argv[0]),
      watchPid: record.pid,
    });
    return { name: spec.name, holderPid: holder.pid!, created: true };
  }

  /**
   * Starts a terminal holder ahead of its program: it loads its modules while the sandbox boots, and
   * startPty then only hands it the program. Stopping the sandbox ends it.
   */
  prewarmPty(sessionId: string, name: string): void {
    if (!PTY_NAME.test(name)) throw new SandboxError("invalid_spec", `Invalid terminal name: ${name}`);
    if (this.warm.has(sessionId, name)) return;
    const record = this.runningRecord(sessionId);
    this.warm.start(sessionId, name, ptyFiles(record.sessionDir, name));
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
    if (!isRunning(record)) throw new SandboxError("not_running", `Sandbox ${sessionId} is not running`);
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

  private async launchOnce(spec: LaunchSpec): Promise<SandboxHandle> {
    const paths = sessionPaths(path.resolve(spec.sessionDir));
    const previous = readRecord(paths.root, this.name);
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
    // Empty until the supervisor writes the code: a file that exists can be watched (watchExit).
    fs.writeFileSync(paths.exitCode, "", { mode: 0o600 });
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
    const script = supervisorScript(paths, prepared, limits, this.bin.prlimit, this.isolation);

    rotateLog(paths.log, this.logMaxBytes);
    const started = startSupervisor(spec, paths, prepared, script);
    if (!started) {
      await removeCgroups(limits.cgroups);
      throw new SandboxError("launch_failed", `Could not start the sandbox supervisor: ${tail(paths.log)}`);
    }
    const { pid, pidStart } = started;

    const record = newRecord({
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
    });
    writeRecord(record);
    this.dirs.set(spec.sessionId, paths.root);
    this.watchLog(record);

    try {
      await waitStarted(record, paths, prepared, { socat: this.bin.socat, prlimit: this.bin.prlimit });
      // The entry script made the sockets and nothing but it has run yet: take them now.
      for (const name of reverse) {
        try {
          linkTunnel(paths, name);
        } catch (err) {
          if (isRunning(record)) throw err; // else the main command is done: status says so
        }
      }
    } catch (err) {
      await killSandbox(record, this.isolation, 0);
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

  /** Current handle; the first time it sees a sandbox gone, it removes its cgroups and notes when. */
  private async reconcile(record: SandboxRecord): Promise<SandboxHandle> {
    const running = isRunning(record);
    const paths = sessionPaths(record.sessionDir);
    if (!running && !record.exitedAt) {
      await removeCgroups(record.cgroups);
      record.exitedAt = new Date().toISOString();
      writeRecord(record);
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

  private findRecord(sessionId: string): SandboxRecord | null {
    const cached = this.dirs.get(sessionId);
    const candidates = [...(cached ? [cached] : []), path.join(this.root, sessionId)];
    for (const dir of candidates) {
      const record = readRecord(dir, this.name);
      if (record?.sessionId === sessionId) return record;
    }
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      // No root yet: nothing launched.
    }
    for (const name of names) {
      const record = readRecord(path.join(this.root, name), this.name);
      if (record?.sessionId === sessionId) {
        this.dirs.set(sessionId, record.sessionDir);
        return record;
      }
    }
    return null;
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
