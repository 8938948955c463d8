import type http from "node:http";
import path from "node:path";

import { getSessionRow, touchSession } from "@/db/queries/sessions";
import { ApiError } from "@/lib/api/errors";
import { ConflictError } from "@/lib/errors";
import { proxiedHarness, type HarnessServer } from "@/lib/harness";
import { HARNESS_SOCKET, sessionPaths } from "@/lib/sandbox/layout";

import { harnessPassword } from "./harness-secrets";
import { sessionManager } from "./manager";
import { sessionDir } from "./paths";

/*
 * A session's harness server (opencode serve), as the host reaches it: the turn client's connection
 * (messaging.ts) and the pass-through at /sessions/{id}/<segment>/{...} (lib/api/router.ts), which
 * the harness's own proxy answers once the caller and the session have been checked here.
 */

/** Never run/sock/ (the sandbox can swap entries there): the host-only link openTunnels made. */
export function harnessServer(sessionId: string): HarnessServer {
  return {
    socketPath: path.join(sessionPaths(sessionDir(sessionId)).tunnels, HARNESS_SOCKET),
    password: harnessPassword(sessionId),
  };
}

/** Passes an authenticated request through to the session's harness server at `target` (path and query). */
export async function proxyHarnessServer(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  sessionId: string,
  segment: string,
  target: string,
): Promise<void> {
  const proxied = proxiedHarness(segment);
  if (!proxied) throw new ApiError("not_found", `no harness serves /${segment}`);
  const { harness, proxy } = proxied;
  const row = await getSessionRow(sessionId);
  if (row.config.harnessId !== harness.id) {
    throw new ApiError("not_found", `session ${sessionId} runs ${row.config.harnessId}, not ${harness.id}`);
  }
  if (row.status === "creating") throw new ConflictError(`session ${sessionId} is still starting`);
  if (row.status !== "ready") throw new ApiError("gone", `session ${sessionId} has ended (${row.status})`);
  await touchSession(sessionId);
  // The tunnel may be another replica's (remote drivers) or not yet linked on this one.
  await sessionManager()
    .driver.openTunnels?.(sessionId)
    .catch((err: unknown) => {
      throw new ApiError(
        "bad_gateway",
        `the session's ${harness.id} server is unreachable: ${(err as Error).message}`,
      );
    });
  await proxy.forward(req, res, harnessServer(sessionId), target, sessionId);
}
