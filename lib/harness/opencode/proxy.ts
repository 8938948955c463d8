import http from "node:http";

import { untrustedResponseHeaders } from "@/lib/api/untrusted-response";
import { log } from "@/lib/log";

import type { HarnessProxy, HarnessServer } from "../types";

/*
 * /sessions/{id}/opencode/{...}: the opencode server of an opencode session, verbatim, so the official
 * @opencode-ai/sdk client pointed at this base works (streams included). Hangar's credentials are
 * checked by the caller and replaced here by the session's harness password. The answer is the
 * sandbox's, so it is served as untrusted (lib/api/untrusted-response.ts): a body, never a page or
 * a cookie of Hangar's origin.
 */

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

async function forwardToOpencode(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  server: HarnessServer,
  path: string,
  sessionId: string,
): Promise<void> {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (!DROP.has(name)) headers[name] = value;
  headers.authorization = "Basic " + Buffer.from(`opencode:${server.password}`).toString("base64");

  await new Promise<void>((resolve) => {
    const upstream = http.request(
      { socketPath: server.socketPath, method: req.method, path, headers },
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

export const opencodeProxy: HarnessProxy = { segment: "opencode", forward: forwardToOpencode };
