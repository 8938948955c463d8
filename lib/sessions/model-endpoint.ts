import { createHash, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";

import { log } from "@/lib/log";
import { createModelGateway, type ModelGateway } from "@/lib/model-gateway";
import { runtime } from "@/lib/runtime";

/*
 * The per-session model endpoint. Inside the sandbox LITELLM_API_BASE points at a loopback port bridged
 * to this socket, and LITELLM_API_KEY is a per-session token. Here the token is checked and the request
 * is forwarded to the real gateway with the platform's key, so that key never enters a sandbox. With
 * no gateway configured, Hangar's built-in test model answers instead.
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

function matches(token: string | null, hash: string): boolean {
  if (!token) return false;
  const given = createHash("sha256").update(token).digest();
  return timingSafeEqual(given, Buffer.from(hash, "hex"));
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

export async function listenModelEndpoint(
  sessionId: string,
  socketPath: string,
  tokenHash: string,
): Promise<ModelEndpoint> {
  const server = http.createServer((req, res) => {
    if (!matches(presentedToken(req), tokenHash)) return reply(res, 401, "invalid session token");
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
  });
  fs.rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  fs.chmodSync(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
