import { randomUUID } from "node:crypto";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { HARNESS_PROXY } from "@/lib/harness";
import { log } from "@/lib/log";
import { proxyHarnessServer } from "@/lib/sessions/harness-server";
import { watchCredentials } from "@/lib/teams/revocation";

import { authorize } from "./access";
import { authenticate } from "./auth";
import { toErrorReply } from "./errors";
import { facadeNotFoundRoute, methodNotAllowedRoute, notFoundRoute } from "./fallback";
import type { RawParams, Reply, RouteHandler } from "./handler";
import type { RequestLike } from "./transport";

/*
 * Hangar's API fast path. Next's generic request handling costs about a millisecond of CPU per
 * request, which capped the API near 1,000 requests/s on two cores (bench/agents). server.ts
 * answers /api/v1 itself: it loads the same route files Next builds (app/api/**\/route.ts), matches
 * the operation's path and calls the handler's framework-free `run`. Pages still go through Next.
 */

type Route = { method: string; pattern: RegExp; names: string[]; run: RouteHandler["run"] };

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

function compile(opPath: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = opPath
    .split("/")
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(param[1] as string);
      return "([^/]+)";
    })
    .join("/");
  return { pattern: new RegExp(`^${source}/?$`), names };
}

function routeFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name.startsWith("[...") ? [] : routeFiles(full);
    return entry.name === "route.ts" ? [full] : [];
  });
}

export async function loadApiRoutes(appDir: string): Promise<Route[]> {
  const routes: Route[] = [];
  // Hangar's API (app/api) and the Managed Agents API facade (app/v1).
  const files = ["api", "v1"].flatMap((dir) =>
    fs.existsSync(path.join(appDir, dir)) ? routeFiles(path.join(appDir, dir)) : [],
  );
  for (const file of files) {
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const method of METHODS) {
      const handler = mod[method] as RouteHandler | undefined;
      if (!handler?.op) continue;
      routes.push({ method, ...compile(handler.op.path), run: handler.run });
    }
  }
  return routes;
}

const CLIENT_GONE = Object.freeze(Object.assign(new Error("the client went away"), { name: "AbortError" }));

function nodeRequest(req: IncomingMessage, res: ServerResponse): RequestLike {
  const gone = new AbortController();
  // A prepared reason: the default one is a DOMException with a stack, built for every stream closed.
  res.once("close", () => gone.abort(CLIENT_GONE));
  return {
    signal: gone.signal,
    method: req.method ?? "GET",
    url: req.url ?? "/",
    headers: {
      get: (name) => {
        const value = req.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(", ") : (value ?? null);
      },
    },
    body: req.method === "GET" || req.method === "HEAD" ? null : req,
  };
}

/** Writes a streamed reply as its chunks come, honouring back-pressure; stops when the client leaves. */
async function writeStream(
  res: ServerResponse,
  reply: Reply & { stream: AsyncIterable<string | Uint8Array> },
) {
  res.writeHead(reply.status, reply.headers);
  const iterator = reply.stream[Symbol.asyncIterator]();
  const closed = new Promise<void>((resolve) => res.once("close", resolve));
  try {
    for (let first = true; ; first = false) {
      const next = await iterator.next();
      if (next.done || res.destroyed) break;
      const flowing = res.write(next.value);
      // Node corks the socket on a write until the next tick, which waits for every microtask queued
      // meanwhile (other subscribers' frames, a database call's continuation). The first chunk (the
      // headers go with it) waits for that, so a replay that is ready by then shares its packet;
      // every later chunk is sent at once.
      if (!first) res.socket?.uncork();
      if (!flowing) await Promise.race([new Promise((r) => res.once("drain", r)), closed]);
    }
  } catch (err) {
    log.error("stream failed", { err });
  } finally {
    await iterator.return?.();
    res.end();
  }
}

function writeReply(res: ServerResponse, reply: Reply) {
  if (reply.stream) return void writeStream(res, reply as Reply & { stream: AsyncIterable<string> });
  const headers: Record<string, string | string[]> = { ...reply.headers };
  let body: string | Uint8Array | undefined;
  if (reply.json !== undefined) {
    body = JSON.stringify(reply.json);
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(body));
  } else if (reply.bytes) {
    body = reply.bytes;
    headers["content-length"] = String(reply.bytes.byteLength);
  }
  res.writeHead(reply.status, headers);
  res.end(body);
}

/**
 * /sessions/{id}/opencode/{...}: authenticated and authorised like every route (GET and HEAD need a
 * viewer, anything else an operator; the session must be in reach), then handed to the harness
 * server. An open event stream closes when the caller's credential is revoked.
 */
async function proxyRequest(req: IncomingMessage, res: ServerResponse, match: RegExpExecArray) {
  const requestId = randomUUID();
  try {
    const principal = await authenticate(nodeRequest(req, res));
    const sessionId = decodeURIComponent(match[1]!);
    const reading = req.method === "GET" || req.method === "HEAD";
    await authorize(principal, reading ? "viewer" : "operator", { kind: "session", id: sessionId });
    const unwatch = watchCredentials(principal.credentials, () => res.destroy(), principal.expiresAt);
    res.once("close", unwatch);
    const target = (match[3] ?? "/") + (match[4] ?? "");
    await proxyHarnessServer(req, res, sessionId, match[2]!, target);
  } catch (err) {
    if (!res.headersSent)
      writeReply(res, { ...toErrorReply(err, requestId), headers: { "x-request-id": requestId } });
    else res.destroy();
  }
}

/** Whether a request path is under `prefix` (the prefix itself, `prefix/...` or `prefix?...`). */
function under(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

/**
 * Answers the request when it is an /api/v1 call or one to the Managed Agents facade (/v1, whose
 * unknown paths get Anthropic's error envelope); returns false to let Next take it.
 */
export function createApiDispatcher(routes: Route[]) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? "/";
    const pathname = url.split("?")[0] as string;
    const facade = under(pathname, "/v1");
    if (!facade && !under(pathname, "/api/v1")) return false;
    const proxied = HARNESS_PROXY.exec(url);
    if (proxied) {
      await proxyRequest(req, res, proxied);
      return true;
    }
    let run: RouteHandler["run"] | null = null;
    let params: RawParams = {};
    const allowed: string[] = [];
    for (const route of routes) {
      const match = route.pattern.exec(pathname);
      if (!match) continue;
      if (route.method !== req.method) {
        allowed.push(route.method);
        continue;
      }
      run = route.run;
      params = Object.fromEntries(
        route.names.map((name, i) => [name, decodeURIComponent(match[i + 1] as string)]),
      );
      break;
    }
    run ??= allowed.length
      ? methodNotAllowedRoute(allowed, facade).run
      : (facade ? facadeNotFoundRoute : notFoundRoute).run;
    writeReply(res, await run(nodeRequest(req, res), params));
    return true;
  };
}
