import http from "node:http";

import { SandboxError, type SandboxDriver } from "../types";

/*
 * The host's own confirmation that a harness is up, whatever the sandbox wrote: a `ready` status line
 * is only a hint, and only this makes a session ready.
 */

const PROBE_TIMEOUT_MS = 2000;

/**
 * The harness's ready check (lib/harness) as the host runs it: an HTTP endpoint through the host-only
 * harness socket (Basic auth when it has a user, the password from its env), or a command run in the
 * sandbox (`argv` as exec'd there). `program` is the harness's own command line.
 */
export type ReadyCheck = {
  ready:
    { kind: "http"; path: string; user?: string; passwordEnv?: string } | { kind: "command"; argv: string[] };
  env: Record<string, string>;
  program: string[];
  /**
   * A warm sandbox before its claim (lib/sessions/pool.ts): its bind stage waits on the FIFO holding
   * nothing, so it does not hold the answer back as a prepare stage (or a bind stage at work) does.
   */
  warm?: boolean;
  /**
   * A warm sandbox after its claim: its ready command already passed when the host ran it before the
   * claim, so once the bind stage is over and the harness's program runs, the harness is up.
   */
  bound?: boolean;
};

/** GET over the host-only harness socket; true on 200. The answer's body is never read. */
function probeHttp(socketPath: string, urlPath: string, headers: http.OutgoingHttpHeaders): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: urlPath, headers, timeout: PROBE_TIMEOUT_MS }, (res) => {
      resolve(res.statusCode === 200);
      res.destroy();
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

const isBootStage = (cmd: string[], stages: string[]) =>
  cmd.some((arg) => arg.endsWith("/boot.mjs")) &&
  cmd.includes("--stage") &&
  stages.some((stage) => cmd.includes(stage));

/**
 * Whether the harness answers the host itself, whatever the sandbox wrote: the sandbox runs, the
 * bootstrap's prepare stage is over, and the health endpoint answers 200 through the host-only socket
 * (http), or the ready command exits 0 when the host runs it in the sandbox (command; where the host
 * sees the sandbox's processes, the harness's own program must be running too: the check command
 * alone also passes while pip is still at work). A string is a reason to fail the session.
 */
export async function harnessAnswers(
  driver: SandboxDriver,
  sessionId: string,
  check: ReadyCheck,
  harnessSocket: string,
): Promise<boolean | string> {
  if ((await driver.status(sessionId))?.state !== "running") return false;
  const processes = await driver.commandLines?.(sessionId);
  const stages = check.warm ? ["prepare"] : ["prepare", "bind"];
  if (processes?.some((cmd) => isBootStage(cmd, stages))) return false;
  const { ready, env, program } = check;
  if (ready.kind === "command") {
    const harness = program.join("\0");
    if (processes && !processes.some((cmd) => cmd.join("\0") === harness)) return false;
    if (check.bound && processes) return true;
    const result = await driver.exec(sessionId, ready.argv, { timeoutMs: 15_000 }).catch(() => null);
    return result?.exitCode === 0;
  }
  try {
    await driver.openTunnels?.(sessionId);
  } catch (err) {
    if (err instanceof SandboxError && err.code === "invalid_spec") return err.message;
    return false;
  }
  const headers: http.OutgoingHttpHeaders = {};
  if (ready.user) {
    const password = ready.passwordEnv ? (env[ready.passwordEnv] ?? "") : "";
    headers.authorization = "Basic " + Buffer.from(`${ready.user}:${password}`).toString("base64");
  }
  return probeHttp(harnessSocket, ready.path, headers);
}
