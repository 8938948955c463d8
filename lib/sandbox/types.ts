/*
 * The sandbox driver contract. A driver runs one sandbox per session id, keyed by that id: launching an
 * id that is running returns the running sandbox, stopping one that is gone is a no-op. Everything a
 * driver needs after a server restart lives in the session dir, so a fresh driver instance can find
 * (adopt) sandboxes an earlier process started.
 *
 * What the host reads back from a sandbox never comes from a path the sandbox can write: the main
 * process's status lines land in the host-only `run/status.jsonl` (see `sessionPaths`), and the host
 * reaches a server inside only through `run/tunnels/<socket>` once `openTunnels` has made it.
 */

import type { ChildProcess } from "node:child_process";

import type { PtyConnection, PtyEvents } from "@/lib/pty/client";

/** `container`: a pod on Kubernetes (its isolation is the cluster's container runtime and policies). */
export type Isolation = "namespaces" | "container" | "none";

/** "127.0.0.1:port inside the sandbox → a Unix socket on the host" (the egress proxy listens there). */
export type Bridge = { port: number; socketPath: string };

/**
 * "A Unix socket on the host → 127.0.0.1:port inside the sandbox", to reach a harness server from the
 * host. The socket must sit directly in the session's `run/sock/` (see `sessionPaths`), which the
 * sandbox can write: the host connects only to `run/tunnels/<same name>` (see `openTunnels`).
 */
export type ReverseBridge = { socketPath: string; port: number };

export type ResourceLimits = { memoryMiB?: number; pids?: number; nofile?: number };

/**
 * A memory-backed folder inside every sandbox, private to it (mode 0700): the bootstrap keeps the
 * harness's environment file there, so no secret lands on a disk. A tmpfs on the local driver, an
 * `emptyDir: {medium: Memory}` on Kubernetes. Drivers without a mount namespace (process) name their
 * own folder in the sandbox's HANGAR_PRIVATE instead.
 */
export const SANDBOX_PRIVATE = "/run/hangar/private";

export type LaunchSpec = {
  sessionId: string;
  /** Host path, directly under the driver's root; the driver creates home/, workspace/, tmp/, run/. */
  sessionDir: string;
  /** The sandbox's main process; the sandbox ends when it exits. */
  argv: string[];
  /** The whole environment. The driver adds HOME (and PATH when missing); nothing is inherited. */
  env: Record<string, string>;
  /**
   * Given to the main process alone, never written to this host's disk: on its stdin, then EOF
   * (local drivers), or in the file named by HANGAR_SPEC_FILE, from the session's Secret (Kubernetes).
   * The bootstrap's spec travels here since it holds the session's secrets.
   */
  stdin?: string;
  bridges?: Bridge[];
  reverseBridges?: ReverseBridge[];
  limits?: ResourceLimits;
  /** Host paths shown read-only at the same place, after hiding (to re-expose e.g. a toolchain). */
  readOnlyPaths?: string[];
  /** Host paths replaced by an empty, read-only folder (or an empty file), e.g. the data folder. */
  hidePaths?: string[];
  /**
   * Host paths shown inside at another place (after everything above, so they shadow it). The
   * Kubernetes stand-in's kubelet mounts pod volumes with these.
   */
  binds?: { source: string; target: string; readOnly?: boolean }[];
  /** Labels for the sandbox's objects where the engine has labels (Kubernetes). */
  labels?: { agentId?: string };
};

export type LimitMechanism = "cgroup-v2" | "cgroup-v1" | "rlimit" | "kubernetes" | "none";

/** What was actually enforced; `notes` says what could not be. */
export type AppliedLimits = ResourceLimits & { mechanism: LimitMechanism; notes: string[] };

export type SandboxHandle = {
  sessionId: string;
  driver: string;
  isolation: Isolation;
  state: "running" | "exited";
  /** Supervisor pid, leader of the sandbox's process group. */
  pid: number;
  /** Host pid of the sandbox's init (pid 1 inside its pid namespace); absent without isolation. */
  initPid?: number;
  startedAt: string;
  exitedAt?: string;
  exitCode?: number;
  /** Why the sandbox exited, when the driver knows better than an exit code (OOM, image pull). */
  reason?: string;
  /** Still starting, but held up by something worth showing (no node fits, pulling the image). */
  waiting?: string;
  sessionDir: string;
  logPath: string;
  limits: AppliedLimits;
};

export type ExecOptions = {
  /** Inside the sandbox; relative paths start at the workspace. */
  cwd?: string;
  /** Added to the sandbox's environment for this command. */
  env?: Record<string, string>;
  stdin?: string | Uint8Array;
  timeoutMs?: number;
};

export type ExecResult = { exitCode: number; stdout: string; stderr: string; timedOut: boolean };

export type StopOptions = { graceMs?: number; removeDir?: boolean };

export type Preflight = { ok: boolean; problems: string[]; notes: string[] };

/** A program run in a terminal that the sandbox holds (a TUI harness), independent of any client. */
export type PtySpec = {
  /** One terminal per name and session: lower-case letters, digits and dashes. */
  name: string;
  argv: string[];
  /** Added to the sandbox's environment. */
  env?: Record<string, string>;
  /** Inside the sandbox; relative paths start at the workspace. */
  cwd?: string;
  cols?: number;
  rows?: number;
  /** How the program is named in notices ("claude exited with code 0"). */
  title?: string;
};

export type PtyInfo = { name: string; holderPid: number; created: boolean };

export type SandboxDriver = {
  readonly name: string;
  readonly isolation: Isolation;
  preflight(): Promise<Preflight>;
  launch(spec: LaunchSpec): Promise<SandboxHandle>;
  /** `null` when the id has never been launched under this driver's root. */
  status(sessionId: string): Promise<SandboxHandle | null>;
  stop(sessionId: string, options?: StopOptions): Promise<void>;
  exec(sessionId: string, argv: string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * Starts a program inside the sandbox with pipes for stdin, stdout and stderr, for callers that
   * talk to it while it runs (the Agent SDK's CLI). It ends with the sandbox at the latest.
   */
  spawn(
    sessionId: string,
    argv: string[],
    options?: { env?: Record<string, string>; cwd?: string },
  ): ChildProcess;
  list(): Promise<SandboxHandle[]>;
  /**
   * Starts `spec.argv` in a terminal held for the session (idempotent on the name: a running one is
   * kept). It keeps running with no client attached, and across server restarts.
   */
  startPty(sessionId: string, spec: PtySpec): Promise<PtyInfo>;
  /** Optional: start a terminal's holder early, so startPty later only hands it the program. */
  prewarmPty?(sessionId: string, name: string): void;
  /** Attaches to a held terminal: the current screen arrives first, then live output. */
  attachPty(sessionId: string, name: string, events: Partial<PtyEvents>): Promise<PtyConnection>;
  /**
   * Remote drivers (Kubernetes): where the sandbox reaches the egress proxy and the model endpoint,
   * instead of loopback ports bridged to per-session sockets on this host.
   */
  sandboxNetwork?(sessionId: string): { egressProxy: string; modelBase: string; noProxy: string[] };
  /**
   * Makes the reverse bridges of a running sandbox reachable at `run/tunnels/<socket name>`, a folder
   * the sandbox cannot see. Local drivers hard-link the socket the sandbox made (done at launch, so
   * this only restores a missing link; a link is taken only if it is a socket: a symlink planted in
   * run/sock/ is refused with `invalid_spec`); remote drivers open port-forward listeners there, e.g.
   * on a web replica other than the one that launched it. Idempotent.
   */
  openTunnels?(sessionId: string): Promise<void>;
  /**
   * Local drivers: the command lines of the sandbox's processes, as the host sees them in /proc (the
   * launcher checks that the bootstrap's prepare stage is over before it believes a `ready` line).
   */
  commandLines?(sessionId: string): Promise<string[][]>;
  /**
   * Remote drivers: take over a running sandbox another process launched (after a restart): rebuild
   * the host-side copies of its log and boot status, open its tunnels.
   */
  adopt?(sessionId: string): Promise<void>;
  /**
   * Optional: calls `onExit` once when the sandbox is gone, on an event rather than a poll (the
   * supervised drivers watch the exit code their supervisor writes), also when it was gone already.
   * Returns what stops the watch, or null when this sandbox cannot be watched (no record, no inotify
   * watch left). Without it, or on null, the caller checks `status` on a slow timer.
   */
  watchExit?(sessionId: string, onExit: () => void): { close: () => void } | null;
  /** Remote drivers: pushes back the engine's own expiry of a sandbox that is still in use. */
  keepAlive?(sessionId: string): Promise<void>;
  /** Remote drivers: the sandbox's log, read from the engine (any replica can serve it). */
  readLog?(sessionId: string, tailLines: number): Promise<string>;
};

export class SandboxError extends Error {
  constructor(
    readonly code: "invalid_spec" | "not_found" | "not_running" | "launch_failed" | "unavailable",
    message: string,
  ) {
    super(message);
    this.name = "SandboxError";
  }
}
