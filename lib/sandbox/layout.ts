import path from "node:path";

/*
 * The session directory layout, shared by every driver and by the host side (lifecycle, messaging,
 * logs, proxies): <root>/<sessionId>/ holds home/, workspace/ and tmp/ (what the sandbox works in) and
 * run/ (the host's: records, logs, status, sockets). Pure paths: nothing here touches the disk.
 */

/** All session dirs of a data folder sit here; a driver scans it after a restart to adopt sandboxes. */
export function sessionsRootIn(dataDir: string): string {
  return path.join(dataDir, "sessions");
}

/** The listeners Hangar makes in run/listen/ for a sandbox's bridges, and the harness's reverse bridge. */
export const EGRESS_SOCKET = "egress.sock";
export const MODEL_SOCKET = "model.sock";
/** The reverse bridge of a harness server: made in run/sock/, reached at run/tunnels/ (see types.ts). */
export const HARNESS_SOCKET = "harness.sock";

export type SessionPaths = {
  root: string;
  home: string;
  workspace: string;
  tmp: string;
  /** Host-only: state, log, exit code, entry script. Never visible inside the sandbox. */
  run: string;
  /**
   * Visible read-write inside at /run/hangar/sock: the reverse bridges' sockets, made by the sandbox.
   * The host never opens anything here (the sandbox can swap an entry for a link at any time).
   */
  sock: string;
  /** Hangar's listeners for the sandbox (egress, model); shown read-only at /run/hangar/listen. */
  listen: string;
  /** Host-only: what the host connects to for a reverse bridge (hard links, port-forward listeners). */
  tunnels: string;
  state: string;
  log: string;
  exitCode: string;
  bwrapStatus: string;
  /** Host-only: the main process's status lines, written through an inherited fd (or a log mirror). */
  status: string;
  entry: string;
  /** Host-only: the seccomp filter (lib/sandbox/seccomp.ts) bwrap and the exec loader read. */
  seccomp: string;
  /** Host-only: the session's terminals, <name>.sock, <name>.pid and <name>.log. */
  pty: string;
};

/** The folders and files of the session dir `sessionDir`. */
export function sessionPaths(sessionDir: string): SessionPaths {
  const run = path.join(sessionDir, "run");
  return {
    root: sessionDir,
    home: path.join(sessionDir, "home"),
    workspace: path.join(sessionDir, "workspace"),
    tmp: path.join(sessionDir, "tmp"),
    run,
    sock: path.join(run, "sock"),
    listen: path.join(run, "listen"),
    tunnels: path.join(run, "tunnels"),
    state: path.join(run, "sandbox.json"),
    log: path.join(run, "sandbox.log"),
    exitCode: path.join(run, "exit-code"),
    bwrapStatus: path.join(run, "bwrap-status.json"),
    status: path.join(run, "status.jsonl"),
    entry: path.join(run, "entry.sh"),
    seccomp: path.join(run, "seccomp.bpf"),
    pty: path.join(run, "pty"),
  };
}
