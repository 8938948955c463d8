import type http from "node:http";
import type net from "node:net";

import { log } from "@/lib/log";

import { handleConnect } from "./connect";
import type { Proxy, Scope } from "./decide";
import { handleRequest } from "./forward";
import type { EgressPolicy } from "./policy";
import type { EgressSession, SharedEgressOptions } from "./types";
import { AUTH_REQUIRED, parseProxyCredentials, sendRefusal, writeRawRefusal, type Refusal } from "./wire";

/*
 * The proxy's listeners: a server wired to admit each request under a session (its own listener's,
 * or the one a shared listener's credentials name) and then to decide and proxy it.
 */

export type SessionState = {
  sessionId: string;
  socketPath: string;
  policy: EgressPolicy;
  server: http.Server;
  sockets: Set<net.Socket>;
  isClosed: boolean;
  handle: EgressSession;
};
export type SharedState = { server: http.Server; sockets: Set<net.Socket>; isClosed: boolean };
type Admission = { scope: Scope } | { refusal: Refusal };

/**
 * Wires a proxy server: `admit` names the session a request runs under (or refuses it), then the
 * request is decided and proxied under that session's policy.
 */
export function serveProxy(
  proxy: Proxy,
  server: http.Server,
  sockets: Set<net.Socket>,
  admit: (req: http.IncomingMessage) => Admission | Promise<Admission>,
  context: Record<string, unknown>,
) {
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    // The socket is ours from here; an error while the request is being admitted must not go unheard.
    socket.on("error", () => socket.destroy());
    const run = async () => {
      const admission = await admit(req);
      if ("scope" in admission) return handleConnect(proxy, admission.scope, req, socket, head);
      writeRawRefusal(socket, admission.refusal);
    };
    run().catch((err: unknown) => {
      log.error("egress CONNECT failed", { ...context, err });
      socket.destroy();
    });
  });
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const run = async () => {
      const admission = await admit(req);
      if ("scope" in admission) return handleRequest(proxy, admission.scope, req, res);
      sendRefusal(res, admission.refusal);
    };
    run().catch((err: unknown) => {
      log.error("egress request failed", { ...context, err });
      res.destroy();
    });
  });
  server.on("upgrade", (_req: http.IncomingMessage, socket: net.Socket) => {
    writeRawRefusal(socket, {
      status: 400,
      reason: "bad_request",
      message: "Upgrade is not proxied; use CONNECT (wss:// or ws:// through a tunnel)",
    });
  });
}

// Each request proves its session with the session's proxy password; the session's policy is looked
// up per request (the caller caches), so a stopped session's sandbox is refused from then on.
export async function admitShared(
  state: SharedState,
  options: SharedEgressOptions,
  req: http.IncomingMessage,
): Promise<Admission> {
  const credentials = parseProxyCredentials(req.headers["proxy-authorization"]);
  if (!credentials || !options.checkPassword(credentials.sessionId, credentials.password)) {
    return { refusal: AUTH_REQUIRED };
  }
  const { sessionId } = credentials;
  let policy: EgressPolicy | null;
  try {
    policy = await options.policyFor(sessionId);
  } catch (err) {
    log.error("egress session lookup failed", { sessionId, err });
    return {
      refusal: {
        status: 503,
        reason: "lookup_failed",
        message: "the gateway could not look up the session",
      },
    };
  }
  if (!policy) {
    return {
      refusal: { status: 403, reason: "session_ended", message: `session ${sessionId} is not running` },
    };
  }
  const scope: Scope = {
    sessionId,
    policy,
    sockets: state.sockets,
    get isClosed() {
      return state.isClosed;
    },
  };
  return { scope };
}
