import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

/*
 * Where a request really came from. server.ts settles this once per request and upgrade, before
 * anything else reads it, and rewrites `X-Forwarded-Proto` and `X-Forwarded-For` to the answer, so
 * everything after it (route handlers, pages, terminals) reads settled values, never the client's word.
 * Only with HANGAR_TRUST_PROXY (one reverse proxy in front) do the forwarded headers (proto, for,
 * host) count, and then only their last entry: the one that proxy appended. Without it a client's
 * X-Forwarded-Host is dropped, so the Origin checks compare with the Host the connection came with.
 */

/**
 * What a handler sees of the request. Both a WHATWG Request (Next's route handlers) and Hangar's
 * own fast path in server.ts (a Node request) provide it.
 */
export type RequestLike = {
  method: string;
  url: string;
  headers: { get(name: string): string | null };
  body: AsyncIterable<Uint8Array> | null;
  /** Aborted when the client goes away (streams stop then). */
  signal: AbortSignal;
};

export type Transport = { secure: boolean; client: string };

function lastEntry(value: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(value) ? value.join(",") : value;
  const last = joined?.split(",").at(-1)?.trim();
  return last || undefined;
}

export function settleTransport(req: IncomingMessage, trustProxy: boolean): Transport {
  const remote = req.socket.remoteAddress ?? "unknown";
  const tls = (req.socket as Partial<TLSSocket>).encrypted === true;
  const proto = trustProxy ? lastEntry(req.headers["x-forwarded-proto"])?.toLowerCase() : undefined;
  const forwardedFor = trustProxy ? lastEntry(req.headers["x-forwarded-for"]) : undefined;
  const settled = { secure: tls || proto === "https", client: forwardedFor ?? remote };
  req.headers["x-forwarded-proto"] = settled.secure ? "https" : "http";
  req.headers["x-forwarded-for"] = settled.client;
  // The host the browser asked for, which the Origin checks compare with: the proxy's word, or none.
  const forwardedHost = trustProxy ? lastEntry(req.headers["x-forwarded-host"]) : undefined;
  if (forwardedHost) req.headers["x-forwarded-host"] = forwardedHost;
  else delete req.headers["x-forwarded-host"];
  return settled;
}

/** Whether the request came over TLS (as settled by server.ts). */
export function isHttps(req: RequestLike): boolean {
  return req.headers.get("x-forwarded-proto") === "https";
}

/** The client's address (as settled by server.ts), for per-client limits. */
export function clientAddress(req: RequestLike): string {
  return req.headers.get("x-forwarded-for") ?? "unknown";
}

/**
 * Whether the request path has percent-encoding that does not decode (`%E0%A4%A`). Every later
 * decodeURIComponent (routes, terminals, Next) would throw on it, so it is refused first, whole.
 */
export function hasMalformedPath(url: string | undefined): boolean {
  const raw = url ?? "/";
  const query = raw.indexOf("?");
  try {
    decodeURIComponent(query < 0 ? raw : raw.slice(0, query));
    return false;
  } catch {
    return true;
  }
}

/** This server's origin as the caller reached it (scheme as settled by server.ts; Host as sent). */
export function publicOrigin(req: RequestLike): string {
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host") ?? "localhost";
  return `${isHttps(req) ? "https" : "http"}://${host}`;
}
