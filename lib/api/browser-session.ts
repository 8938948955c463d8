import { createHmac, timingSafeEqual } from "node:crypto";

import { createBrowserSession, getActiveBrowserSession } from "@/db/queries/browser-sessions";
import { initRuntime, runtime } from "@/lib/runtime";

/*
 * The browser never holds the master key. Logging in trades it for this cookie: a login id and its
 * expiry, signed with a key derived from the master key (so a new master key ends every login). The
 * value is HttpOnly and SameSite=Lax; unsafe requests made with it must also pass an Origin check.
 * Over TLS the cookie is `__Host-hangar_session` (Secure, Path=/, no Domain: the browser keeps it to
 * this exact origin, and a plain-HTTP page or a sibling host cannot set or overwrite it); over plain
 * HTTP (localhost) it is `hangar_session`. Each transport reads only its own name.
 */

export const SESSION_COOKIE = "hangar_session";
export const SECURE_SESSION_COOKIE = "__Host-hangar_session";

export function sessionCookieName(secure: boolean): string {
  return secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

function signingKey(): Buffer {
  return createHmac("sha256", runtime().masterKeyDigest).update("hangar browser session v1").digest();
}

function sign(payload: string): string {
  return createHmac("sha256", signingKey()).update(payload).digest("base64url");
}

export function encodeSessionCookie(id: string, expiresAt: Date): string {
  const payload = `${id}.${expiresAt.getTime()}`;
  return `${payload}.${sign(payload)}`;
}

/** The login in a cookie value when its signature holds and it has not expired; else null. */
export function decodeSessionCookie(value: string | undefined): { id: string; expiresAt: Date } | null {
  if (!value) return null;
  const parts = value.split(".");
  if (parts.length !== 3) return null;
  const [id, expires, signature] = parts as [string, string, string];
  const expected = Buffer.from(sign(`${id}.${expires}`));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const expiresAt = new Date(Number(expires));
  if (!(expiresAt.getTime() > Date.now())) return null;
  return { id, expiresAt };
}

/** Verifies the cookie and that the login was not revoked (logout, removal); its row, or null. */
export async function readBrowserSession(value: string | undefined) {
  await initRuntime();
  const decoded = decodeSessionCookie(value);
  if (!decoded) return null;
  return getActiveBrowserSession(decoded.id);
}

/** A new login: of a user (`userId`), or of the master key's holder (null). */
export async function startBrowserSession(
  userAgent: string | null,
  who: { userId: string | null; workspaceId: string | null } = { userId: null, workspaceId: null },
) {
  const ttlMs = runtime().config.HANGAR_SESSION_TTL_HOURS * 3600_000;
  const session = await createBrowserSession({ expiresAt: new Date(Date.now() + ttlMs), userAgent, ...who });
  return { ...session, cookie: encodeSessionCookie(session.id, session.expiresAt) };
}

export function sessionCookieHeader(value: string, expiresAt: Date | null, secure: boolean): string {
  const attrs = [`${sessionCookieName(secure)}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax"];
  if (secure) attrs.push("Secure");
  attrs.push(expiresAt ? `Expires=${expiresAt.toUTCString()}` : "Max-Age=0");
  return attrs.join("; ");
}

/** Logout clears both names: a login made before a switch to (or away from) TLS ends too. */
export function clearSessionCookieHeaders(secure: boolean): string[] {
  const other = secure
    ? `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`
    : `${SECURE_SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0`;
  return [sessionCookieHeader("", null, secure), other];
}

export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
