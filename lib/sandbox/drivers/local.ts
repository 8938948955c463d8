import fs from "node:fs";
import path from "node:path";

import { sessionPaths, type SessionPaths } from "../layout";
import { seccompLoader, seccompSupported, writeSeccompFilter } from "../seccomp";
import { SandboxError, type LaunchSpec, type Preflight } from "../types";
import {
  buildBwrapArgs,
  DEFAULT_PATH,
  SANDBOX_HOME,
  SANDBOX_RUN,
  SANDBOX_WORKSPACE,
  sandboxEnv,
  type HiddenPath,
} from "./bwrap-args";
import { outerUserNamespace } from "./enter";
import { probeHostRoot, writeSandboxEtc } from "./host-root";
import { localPreflight } from "./preflight";
import type { SandboxRecord } from "./records";
import { SupervisedDriver } from "./supervised";
import { SECCOMP_FD, type Prepared } from "./supervisor";

/*
 * The local driver: one bubblewrap sandbox per session, on this machine (the supervisor, records,
 * limits, terminals and tunnels it shares with the process driver are in supervised.ts and beside it).
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

export class LocalDriver extends SupervisedDriver {
  readonly name = "local";
  readonly isolation = "namespaces" as const;

  async preflight(): Promise<Preflight> {
    return localPreflight(this.bin, this.root);
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
