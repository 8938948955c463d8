import fs from "node:fs";
import path from "node:path";

import { log } from "@/lib/log";

import type { SessionPaths } from "../layout";
import type { LaunchSpec, Preflight } from "../types";
import { sandboxEnv } from "./bwrap-args";
import { findExecutable } from "./procs";
import type { SandboxRecord } from "./records";
import { SupervisedDriver } from "./supervised";
import type { Prepared } from "./supervisor";

/*
 * The same contract as the local driver with no isolation at all: a plain child process of this
 * machine's user, with the session's env, cwd (workspace/), HOME (home/) and TMPDIR (tmp/). Bridges run
 * on the host's loopback, so their ports must be free. Only for machines without bubblewrap; hidePaths
 * and readOnlyPaths are ignored because nothing is hidden. With no mount namespace there is no
 * private tmpfs either: HANGAR_PRIVATE names a fresh 0700 folder in /dev/shm (memory, not the data
 * folder's disk), removed when the sandbox is gone.
 */

const SHM = "/dev/shm";

function privateDir(paths: SessionPaths): string {
  try {
    return fs.mkdtempSync(path.join(SHM, "hangar-"));
  } catch {
    const dir = path.join(paths.run, "private");
    log.warn("no /dev/shm: the process sandbox keeps its environment file on disk", { dir });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }
}
export class ProcessDriver extends SupervisedDriver {
  readonly name = "process";
  readonly isolation = "none" as const;

  async preflight(): Promise<Preflight> {
    const problems = (["socat", "prlimit"] as const)
      .filter((name) => !findExecutable(this.bin[name]))
      .map((name) => `${name} not found`);
    return {
      ok: problems.length === 0,
      problems,
      notes: ["no isolation: sandboxed programs can read and write whatever this server's user can"],
    };
  }

  protected environment(spec: LaunchSpec, paths: SessionPaths): Record<string, string> {
    return { TMPDIR: paths.tmp, ...sandboxEnv(spec.env, paths.home), HANGAR_PRIVATE: privateDir(paths) };
  }

  protected released(record: SandboxRecord) {
    const dir = record.env.HANGAR_PRIVATE;
    if (dir && path.dirname(dir) === SHM && path.basename(dir).startsWith("hangar-"))
      fs.rmSync(dir, { recursive: true, force: true });
  }

  protected prepare(spec: LaunchSpec, paths: SessionPaths, env: Record<string, string>): Prepared {
    if ((spec.hidePaths?.length ?? 0) + (spec.readOnlyPaths?.length ?? 0) > 0) {
      log.warn("process sandbox driver ignores hidePaths and readOnlyPaths", { sessionId: spec.sessionId });
    }
    return {
      command: ["/bin/sh", paths.entry, ...spec.argv],
      supervisorEnv: env,
      cwd: paths.workspace,
      bridges: {
        forward: (spec.bridges ?? []).map((b) => ({ port: b.port, connect: path.resolve(b.socketPath) })),
        reverse: (spec.reverseBridges ?? []).map((b) => ({
          listen: path.resolve(b.socketPath),
          port: b.port,
        })),
      },
      statusFd: false,
      entryAsSeen: paths.entry,
    };
  }

  protected execCommand(record: SandboxRecord, argv: string[], env: Record<string, string>, cwd?: string) {
    const workspace = path.join(record.sessionDir, "workspace");
    return {
      command: ["/usr/bin/env", "-i", "--", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv],
      cwd: cwd === undefined ? workspace : path.resolve(workspace, cwd),
    };
  }
}
