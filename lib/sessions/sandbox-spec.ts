import { harnessLaunch, harnessPackageDirs, withSessionEnv } from "@/lib/harness";
import { runtime } from "@/lib/runtime";
import type { ReadyCheck } from "@/lib/sandbox/boot/probe";
import { bootLaunchSpec, type BootLaunch, type SandboxPorts } from "@/lib/sandbox/boot/spec";
import type { HarnessId } from "@/lib/schemas/harness";

import { harnessPassword } from "./harness-secrets";
import { sessionManager } from "./manager";
import { sessionDir, sessionsRoot } from "./paths";

/*
 * What the driver launches for a sandbox (a session's, or a warm one of the pool in ./pool.ts), and
 * how the host tells its harness is up.
 */

/** The host's own way to tell the harness is up: the adapter's ready check, with its password. */
export function readyCheck(harnessId: HarnessId, sessionId: string): ReadyCheck {
  const launch = harnessLaunch(harnessId, {
    model: "",
    prompt: "",
    serverPassword: harnessPassword(sessionId),
    modelBase: "",
    modelToken: "",
    port: 0,
  });
  const ready =
    launch.ready.kind === "command"
      ? { ...launch.ready, argv: withSessionEnv(launch.ready.argv) }
      : launch.ready;
  return { ready, env: launch.env, program: launch.argv };
}

/** The driver's launch spec of a sandbox (a session's, or a warm one of the pool) for a boot spec. */
export function sandboxLaunchSpec(
  sessionId: string,
  spec: BootLaunch["spec"],
  ports: SandboxPorts,
  serves: boolean,
  labels: BootLaunch["labels"],
) {
  const driver = sessionManager().driver;
  const settings = runtime().config;
  return bootLaunchSpec({
    sessionId,
    sessionDir: sessionDir(sessionId),
    spec,
    ports,
    serves,
    remote: driver.sandboxNetwork !== undefined,
    labels,
    limits: {
      memoryMiB: settings.HANGAR_SESSION_MEMORY_MIB,
      pids: settings.HANGAR_SESSION_PIDS,
      nofile: 4096,
    },
    hidePaths: [settings.HANGAR_DATA_DIR, sessionsRoot(), process.cwd()],
    harnessDirs: harnessPackageDirs(),
  });
}
