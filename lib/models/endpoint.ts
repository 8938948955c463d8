import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { Transform, type Duplex } from "node:stream";

import { findLiveSessionIdByModelTokenHash } from "@/db/queries/sessions";
import {
  BUILTIN_MODEL_BODY_MAX,
  IN_FLIGHT_RETRY_AFTER_SECONDS,
  InFlightLimit,
  MODEL_UPSTREAM_BODY_MAX,
  MODEL_UPSTREAM_IN_FLIGHT_PER_SESSION,
} from "@/lib/bounds";
import { listenOn, type ListenTarget } from "@/lib/listen";
import { log } from "@/lib/log";
import { createBuiltinModel, type BuiltinModel } from "@/lib/models/builtin";
import { processSlot } from "@/lib/process-slot";
import { runtime } from "@/lib/runtime";

import {
  checkTargetForm,
  hostNameOf,
  LOOPBACK_NAMES,
  routeOf,
  sharedEndpointNames,
  upstreamUrl,
  type ModelTarget,
} from "./paths";

/*
 * The model endpoint sandboxes talk to. Inside the sandbox LITELLM_API_BASE points at it (on the local
 * drivers a loopback port bridged to a per-session socket; on Kubernetes the gateway role's shared
 * listener), and LITELLM_API_KEY is a per-session token. Here the token is checked and the request is
 * forwarded to the real gateway with the platform's key, so that key never enters a sandbox. With no
 * gateway configured, Hangar's built-in test model answers instead.
 *
 * The sandbox may be hostile, so a request is screened before anything is forwarded: its target
 * must be a clean relative path and its Host the endpoint's own (else 400), the token must match
 * (else 401), the path must be one of the model APIs of paths.ts (else 404), and the body and
 * the session's requests in flight are bounded (413, 429; lib/bounds.ts). The upstream URL is the
 * gateway's base plus that path, re-checked to stay under the base before the key is added.
 */

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  // Answered here (100 Continue) before the body is streamed on.
  "expect",
]);

/**
 * The sandbox's credentials (the platform's key replaces them, whichever header a gateway reads)
 * and claims about the client that are not the sandbox's to make.
 */
const NOT_FORWARDED = new Set([
  "authorization",
  "x-api-key",
  "x-litellm-api-key",
  "api-key",
  "x-goog-api-key",
  "cookie",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
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

function reply(
  res: http.ServerResponse,
  status: number,
  message: string,
  headers: http.OutgoingHttpHeaders = {},
) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ error: { message, type: "hangar_model_endpoint" } }));
}

/** The rest of the body is not read: the connection closes after the answer. */
function replyTooLarge(res: http.ServerResponse, max: number) {
  reply(res, 413, `the request body is larger than ${max} bytes`, { connection: "close" });
}

function declaredLength(req: http.IncomingMessage): number {
  const value = Number(req.headers["content-length"]);
  return Number.isFinite(value) ? value : 0;
}

/** A client that sent `Expect: 100-continue` sends its body only once told to. */
function continueIfAsked(req: http.IncomingMessage, res: http.ServerResponse) {
  if (/100-continue/i.test(req.headers.expect ?? "")) res.writeContinue();
}

/** Hangar's built-in, scripted test model (lib/models/builtin), shared by every session's endpoint. */
export function builtinModel(): BuiltinModel {
  return processSlot("builtin-model", createBuiltinModel);
}

/** Upstream requests in flight per session, shared by every endpoint of this process. */
function upstreamInFlight(): InFlightLimit {
  return processSlot(
    "model-endpoint.in-flight",
    () => new InFlightLimit(Infinity, MODEL_UPSTREAM_IN_FLIGHT_PER_SESSION),
  );
}

export type ModelEndpoint = { close: () => Promise<void> };

/** The real model gateway requests go to: by default the configured one (none: the built-in model). */
export type ModelUpstream = { base: string | undefined; key: string | undefined };

function configuredUpstream(): ModelUpstream {
  const { LITELLM_API_BASE: base, LITELLM_API_KEY: key } = runtime().config;
  return { base, key };
}

/** Passes the body through until it exceeds `max` bytes; then drops the rest and calls `onOver`. */
function bodyLimit(max: number, onOver: () => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (seen > max) return done();
      seen += chunk.length;
      if (seen <= max) return done(null, chunk);
      onOver();
      done();
    },
  });
}

function upstreamHeaders(req: http.IncomingMessage, key: string | undefined): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && !NOT_FORWARDED.has(name)) headers[name] = value;
  }
  if (key) {
    headers.authorization = `Bearer ${key}`;
    headers["x-api-key"] = key;
  }
  return headers;
}

/**
 * Forwards one authenticated, screened request of `sessionId` to the real model gateway with the
 * platform's key (the sandbox's token is dropped), or hands it to the built-in test model when no
 * gateway is configured (which bounds its own bodies and requests in flight).
 */
export function forwardModelRequest(
  sessionId: string,
  target: ModelTarget,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  { base, key }: ModelUpstream = configuredUpstream(),
) {
  if (!base) {
    if (declaredLength(req) > BUILTIN_MODEL_BODY_MAX) return replyTooLarge(res, BUILTIN_MODEL_BODY_MAX);
    continueIfAsked(req, res);
    return void builtinModel().handle(req, res, { session: sessionId });
  }
  if (declaredLength(req) > MODEL_UPSTREAM_BODY_MAX) return replyTooLarge(res, MODEL_UPSTREAM_BODY_MAX);
  let url: URL;
  try {
    url = upstreamUrl(base, target);
  } catch (err) {
    log.error("model endpoint built a URL outside the gateway", { sessionId, error: (err as Error).message });
    return reply(res, 400, "the request target does not stay under the model gateway's base");
  }
  const release = upstreamInFlight().admit(sessionId);
  if (!release) {
    return reply(res, 429, "too many model requests in flight for this session; retry in a moment", {
      "retry-after": String(IN_FLIGHT_RETRY_AFTER_SECONDS),
    });
  }
  res.once("close", release);
  const client = url.protocol === "https:" ? https : http;
  const upstream = client.request(url, { method: req.method, headers: upstreamHeaders(req, key) }, (up) => {
    const out: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
    res.writeHead(up.statusCode ?? 502, out);
    up.pipe(res);
  });
  let overLimit = false;
  const body = bodyLimit(MODEL_UPSTREAM_BODY_MAX, () => {
    overLimit = true;
    upstream.destroy();
    if (!res.headersSent) replyTooLarge(res, MODEL_UPSTREAM_BODY_MAX);
    else res.destroy();
  });
  upstream.on("error", (err) => {
    if (overLimit) return;
    log.warn("model gateway request failed", { sessionId, error: err.message });
    if (!res.headersSent) reply(res, 502, "the model gateway could not be reached");
    else res.destroy();
  });
  // The sandbox going away ends the upstream request too (and frees its slot).
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.on("error", () => upstream.destroy());
  continueIfAsked(req, res);
  req.pipe(body).pipe(upstream);
}

/**
 * The checks before the token: a clean request target and the endpoint's own Host (400). Returns
 * the checked target's path and search, or null when it answered.
 */
function screen(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ownNames: readonly string[],
): { path: string; search: string } | null {
  const form = checkTargetForm(req.url ?? "");
  if ("status" in form) {
    reply(res, form.status, form.message);
    return null;
  }
  const name = hostNameOf(req.headers.host);
  if (name === null || !ownNames.includes(name)) {
    reply(res, 400, "the Host header does not name this model endpoint");
    return null;
  }
  return form;
}

/** After the token: the allow-list (404/405), then forwarding. */
function route(
  sessionId: string,
  form: { path: string; search: string },
  req: http.IncomingMessage,
  res: http.ServerResponse,
  upstream?: ModelUpstream,
) {
  const api = routeOf(req.method ?? "GET", form.path);
  if (typeof api !== "string") {
    return reply(res, api.status, api.message, api.allow ? { allow: api.allow } : {});
  }
  forwardModelRequest(sessionId, { api, ...form }, req, res, upstream);
}

/** Serves `handle` for plain requests and for those that wait for 100 Continue (sent after the checks). */
function endpointServer(handle: http.RequestListener): http.Server {
  const server = http.createServer(handle);
  server.on("checkContinue", handle);
  server.on("clientError", refuseMalformed);
  return server;
}

/** A request Node's parser refused (raw control characters, a broken request line): a JSON 400. */
function refuseMalformed(err: Error & { code?: string }, socket: Duplex) {
  if (!socket.writable) return void socket.destroy();
  const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
  const body = JSON.stringify({
    error: { message: "the request is not well-formed HTTP", type: "hangar_model_endpoint" },
  });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
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

/**
 * The per-session endpoint of the local drivers: one Unix socket, one token. The sandbox reaches it
 * through a loopback port bridged to the socket, so its own Host is a loopback name (any port: the
 * port is the sandbox's, and a process-driver session gets a free one).
 */
export async function listenModelEndpoint(
  sessionId: string,
  socketPath: string,
  tokenHash: string,
): Promise<ModelEndpoint> {
  const server = endpointServer((req, res) => {
    const form = screen(req, res, LOOPBACK_NAMES);
    if (!form) return;
    if (!matches(presentedToken(req), tokenHash)) return reply(res, 401, "invalid session token");
    route(sessionId, form, req, res);
  });
  return serve(server, { path: socketPath });
}

/**
 * The shared endpoint of the gateway role: one listener for every session. The presented token is
 * hashed and looked up among live sessions (`findSession`, by default the database); the session it
 * belongs to is the one the request is forwarded for. An unknown token, or one of an ended session,
 * gets 401. Its own Host is the name sandboxes are given (HANGAR_K8S_GATEWAY_HOST) or a short form
 * of it, or loopback (see sharedEndpointNames); any port, as a Service may renumber it.
 * The options replace the database, the configured names and the configured gateway (for tests).
 */
export async function listenSharedModelEndpoint(
  target: ListenTarget,
  options: {
    findSession?: (tokenHash: string) => Promise<string | null>;
    ownNames?: readonly string[];
    upstream?: ModelUpstream;
  } = {},
): Promise<ModelEndpoint & { target: ListenTarget }> {
  const findSession = options.findSession ?? findLiveSessionIdByModelTokenHash;
  const ownNames = options.ownNames ?? sharedEndpointNames(runtime().config.HANGAR_K8S_GATEWAY_HOST);
  const server = endpointServer((req, res) => {
    const form = screen(req, res, ownNames);
    if (!form) return;
    const token = presentedToken(req);
    if (!token) return reply(res, 401, "invalid session token");
    findSession(hashToken(token)).then(
      (sessionId) => {
        if (!sessionId) return reply(res, 401, "invalid session token");
        route(sessionId, form, req, res, options.upstream);
      },
      (err: unknown) => {
        log.error("model endpoint session lookup failed", { err });
        reply(res, 503, "the session could not be looked up");
      },
    );
  });
  return serve(server, target);
}
