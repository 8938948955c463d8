import { timingSafeEqual } from "node:crypto";
import type http from "node:http";
import type net from "node:net";

import { normalizeHost, type EgressReason, type EgressVerdict } from "./policy";

/*
 * The egress proxy's wire: request targets and headers as they are read, proxy credentials, and the
 * refusals it answers with.
 */

export type EgressFailure =
  | "bad_request"
  | "connect_failed"
  | "connect_timeout"
  | "upstream_failed"
  | "proxy_auth_required"
  | "session_ended"
  | "lookup_failed";

export type Target = { host: string; port: number };
export type Refusal = { status: number; reason: EgressReason | EgressFailure; message: string };

const MAX_HOST_LENGTH = 253;

// RFC 9110 §7.6.1 hop-by-hop fields, plus the legacy Proxy-Connection and our own credentials.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  407: "Proxy Authentication Required",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The HTTP status the proxy answers with for a refused or failed request. */
export function toHttpStatus(reason: EgressReason | EgressFailure): number {
  if (reason === "invalid_host" || reason === "bad_request") return 400;
  if (reason === "proxy_auth_required") return 407;
  if (reason === "dns_failed" || reason === "connect_failed" || reason === "upstream_failed") return 502;
  if (reason === "lookup_failed") return 503;
  if (reason === "connect_timeout") return 504;
  return 403;
}

export const AUTH_REQUIRED: Refusal = {
  status: 407,
  reason: "proxy_auth_required",
  message: "this proxy needs the session's credentials (Proxy-Authorization: Basic)",
};

/** `Basic base64(<sessionId>:<password>)`; null when absent or malformed. Never logged. */
export function parseProxyCredentials(
  header: string | undefined,
): { sessionId: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header ?? "");
  if (!match) return null;
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return null;
  return { sessionId: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Constant-time comparison of a presented secret with the expected one. */
export function secretsMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function parseConnectTarget(text: string | undefined): Target | null {
  const match =
    /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text ?? "") ?? /^([^:[\]/\s]+):(\d{1,5})$/.exec(text ?? "");
  return match ? toTarget(match[1] ?? "", Number(match[2])) : null;
}

function toTarget(rawHost: string, port: number): Target | null {
  if (rawHost.length === 0 || rawHost.length > MAX_HOST_LENGTH + 1) return null;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: normalizeHost(rawHost), port };
}

export type HttpTarget = Target & { authority: string; path: string };

// The path is taken verbatim from the request line, not from URL.pathname, which would re-normalise it.
export function parseHttpTarget(url: string | undefined): HttpTarget | null {
  const match = /^http:\/\/([^/?#]+)([^#]*)/i.exec(url ?? "");
  if (!match) return null;
  let parsed: URL;
  try {
    parsed = new URL(`http://${match[1]}/`);
  } catch {
    return null;
  }
  const target = toTarget(parsed.hostname, parsed.port === "" ? 80 : Number(parsed.port));
  if (!target) return null;
  const rest = match[2] ?? "";
  const path = rest.startsWith("/") ? rest : `/${rest}`;
  return { ...target, authority: parsed.host, path };
}

export function filterHeaders(rawHeaders: readonly string[], drop: readonly string[] = []): string[] {
  const named = new Set<string>(drop);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== "connection") continue;
    for (const token of (rawHeaders[i + 1] ?? "").split(",")) named.add(token.trim().toLowerCase());
  }
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    kept.push(name, rawHeaders[i + 1] ?? "");
  }
  return kept;
}

export function describeRefusal(verdict: EgressVerdict): Refusal {
  return { status: toHttpStatus(verdict.reason), reason: verdict.reason, message: verdict.message };
}

function buildRefusalHeaders(refusal: Refusal): Record<string, string> {
  return {
    ...(refusal.status === 407 ? { "Proxy-Authenticate": 'Basic realm="hangar"' } : {}),
    "X-Hangar-Egress":
      refusal.status === 403 ? "denied" : refusal.status === 407 ? "unauthenticated" : "failed",
    "X-Hangar-Egress-Reason": refusal.reason,
    "Content-Type": "text/plain; charset=utf-8",
    Connection: "close",
  };
}

// After a CONNECT the socket belongs to us, not to the HTTP server, so the reply is written by hand.
export function writeRawRefusal(socket: net.Socket, refusal: Refusal) {
  const body = `${refusal.message}\n`;
  const headers = { ...buildRefusalHeaders(refusal), "Content-Length": String(Buffer.byteLength(body)) };
  const head = [
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status] ?? "Error"}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}

export function sendRefusal(res: http.ServerResponse, refusal: Refusal) {
  res.writeHead(refusal.status, buildRefusalHeaders(refusal)).end(`${refusal.message}\n`);
}
