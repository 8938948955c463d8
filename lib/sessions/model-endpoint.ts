import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import https from "node:https";

import { findLiveSessionIdByModelTokenHash } from "@/db/queries/sessions";
import { listenOn, type ListenTarget } from "@/lib/gateway/listen";
import { log } from "@/lib/log";
import { createModelGateway, type ModelGateway } from "@/lib/model-gateway";
import { runtime } from "@/lib/runtime";

/*
 * The model endpoint sandboxes talk to. Inside the sandbox LITELLM_API_BASE points at it (on the local
 * drivers a loopback port bridged to a per-session socket; on Kubernetes the gateway role's shared
 * listener), and LITELLM_API_KEY is a per-session token. Here the token is checked and the request is
 * forwarded to the real gateway with the platform's key, so that key never enters a sandbox. With no
 * gateway configured, Hangar's built-in test model answers instead.
 */

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

function presentedToken(req: http.IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth?.toLowerCase().startsWith("bearer ")) return auth.slice(7).trim();
  const apiKey = req.headers["x-api-key"];
  return typeof apiKey === "string" ? apiKey : null;
}

/** SHA-256 hex of a model token, as stored in sessions.model_token_hash (see newModelToken). */
function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function matches(token: string | null, hash: string): boolean {
  if (!token) return false;
  const given = Buffer.from(hashToken(token), "hex");
  const expected = Buffer.from(hash, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function reply(res: http.ServerResponse, status: number, message: string) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message, type: "hangar_model_endpoint" } }));
}

const SLOT = Symbol.for("hangar.model-gateway");

/** Hangar's built-in, scripted test model (lib/model-gateway), shared by every session's endpoint. */
export function builtInGateway(): ModelGateway {
  const slot = globalThis as Record<symbol, ModelGateway | undefined>;
  return (slot[SLOT] ??= createModelGateway());
}

export type ModelEndpoint = { close: () => Promise<void> };

/**
 * Forwards one authenticated request of `sessionId` to the real model gateway with the platform's key
 * (the sandbox's token is dropped), or to the built-in test model when no gateway is configured.
 */
export function forwardModelRequest(sessionId: string, req: http.IncomingMessage, res: http.ServerResponse) {
  const { LITELLM_API_BASE: base, LITELLM_API_KEY: key } = runtime().config;
  if (!base) return void builtInGateway().handle(req, res, { session: sessionId });
  const target = new URL(req.url ?? "/", base.endsWith("/") ? base : base + "/");
  const basePath = new URL(base).pathname.replace(/\/$/, "");
  target.pathname = basePath + (req.url ?? "/").split("?")[0];
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && name !== "authorization" && name !== "x-api-key") headers[name] = value;
  }
  if (key) {
    headers.authorization = `Bearer ${key}`;
    headers["x-api-key"] = key;
  }
  const client = target.protocol === "https:" ? https : http;
  const upstream = client.request(target, { method: req.method, headers }, (up) => {
    const out: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
    res.writeHead(up.statusCode ?? 502, out);
    up.pipe(res);
  });
  upstream.on("error", (err) => {
    log.warn("model gateway request failed", { sessionId, error: err.message });
    if (!res.headersSent) reply(res, 502, "the model gateway could not be reached");
    else res.destroy();
  });
  req.pipe(upstream);
}

async function serve(
  server: http.Server,
  target: ListenTarget,
): Promise<ModelEndpoint & { target: ListenTarget }> {
  const bound = await listenOn(server, target);
  return {
    target: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The per-session endpoint of the local drivers: one Unix socket, one token. */
export async function listenModelEndpoint(
  sessionId: string,
  socketPath: string,
  tokenHash: string,
): Promise<ModelEndpoint> {
  const server = http.createServer((req, res) => {
    if (!matches(presentedToken(req), tokenHash)) return reply(res, 401, "invalid session token");
    forwardModelRequest(sessionId, req, res);
  });
  return serve(server, { path: socketPath });
}

/**
 * The shared endpoint of the gateway role: one listener for every session. The presented token is
 * hashed and looked up among live sessions (`findSession`, by default the database); the session it
 * belongs to is the one the request is forwarded for. An unknown token, or one of an ended session,
 * gets 401.
 */
export async function listenSharedModelEndpoint(
  target: ListenTarget,
  findSession: (tokenHash: string) => Promise<string | null> = findLiveSessionIdByModelTokenHash,
): Promise<ModelEndpoint & { target: ListenTarget }> {
  const server = http.createServer((req, res) => {
    const token = presentedToken(req);
    if (!token) return reply(res, 401, "invalid session token");
    findSession(hashToken(token)).then(
      (sessionId) => {
        if (!sessionId) return reply(res, 401, "invalid session token");
        forwardModelRequest(sessionId, req, res);
      },
      (err: unknown) => {
        log.error("model endpoint session lookup failed", { err });
        reply(res, 503, "the session could not be looked up");
      },
    );
  });
  return serve(server, target);
}
