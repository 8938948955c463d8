import http from "node:http";
import path from "node:path";

import { getSessionRow, touchSession } from "@/db/queries/sessions";
import { ApiError } from "@/lib/api/errors";
import { ConflictError } from "@/lib/errors";
import { untrustedResponseHeaders } from "@/lib/api/untrusted-response";
import { log } from "@/lib/log";
import { sessionPaths } from "@/lib/sandbox/drivers/bwrap-args";

import { harnessPassword } from "./harness-secrets";
import { sessionManager } from "./manager";
import { sessionDir } from "./paths";

/*
 * /sessions/{id}/opencode/{...}: the opencode server of an opencode session, verbatim, so the official
 * @opencode-ai/sdk client pointed at this base works (streams included). Hangar's credentials are
 * checked by the caller and replaced here by the session's harness password. The answer is the
 * sandbox's, so it is served as untrusted (lib/api/untrusted-response.ts): a body, never a page or
 * a cookie of Hangar's origin.
 */

export const OPENCODE_PROXY = /^\/api\/v1\/managed_agents\/sessions\/([^/]+)\/opencode(\/[^?]*)?(\?.*)?$/;

const DROP = new Set([
  "authorization",
  "cookie",
  "host",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  // The client's address and Hangar's transport are none of the sandbox's business.
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
]);

export async function proxyOpencode(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  sessionId: string,
  rest: string,
  search: string,
): Promise<void> {
  const row = await getSessionRow(sessionId);
  if (row.config.harnessId !== "opencode") {
    throw new ApiError("not_found", `session ${sessionId} runs ${row.config.harnessId}, not opencode`);
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
        `the session's opencode server is unreachable: ${(err as Error).message}`,
      );
    });

  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (!DROP.has(name)) headers[name] = value;
  headers.authorization = "Basic " + Buffer.from(`opencode:${harnessPassword(sessionId)}`).toString("base64");
  const socketPath = path.join(sessionPaths(sessionDir(sessionId)).tunnels, "harness.sock");

  await new Promise<void>((resolve) => {
    const upstream = http.request(
      { socketPath, method: req.method, path: (rest || "/") + search, headers },
      (answer) => {
        // Replaces the app's headers server.ts set: this is not one of Hangar's pages.
        res.removeHeader("content-security-policy");
        res.writeHead(answer.statusCode ?? 502, untrustedResponseHeaders(answer.headers));
        res.flushHeaders();
        answer.pipe(res);
        answer.once("end", resolve);
        answer.once("error", () => resolve());
      },
    );
    // A client that leaves ends the upstream request too (an /event stream would otherwise linger).
    res.once("close", () => {
      upstream.destroy();
      resolve();
    });
    upstream.once("error", (err) => {
      log.warn("opencode proxy failed", { sessionId, error: err.message });
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: { code: "bad_gateway", message: "the opencode server in the sandbox is not answering" },
          }),
        );
      } else res.destroy();
      resolve();
    });
    req.pipe(upstream);
  });
}
