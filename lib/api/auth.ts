import { createHash, timingSafeEqual } from "node:crypto";

import { runtime } from "@/lib/runtime";

import { readBrowserSession, readCookie, sessionCookieName } from "./browser-session";
import { ApiError } from "./errors";
import { isHttps, type RequestLike } from "./transport";

export type Principal = { kind: "master" } | { kind: "browser"; sessionId: string; expiresAt: Date };

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Constant-time check of a presented key against the master key (both hashed to equal length). */
export function isMasterKey(presented: string): boolean {
  const digest = createHash("sha256").update(presented).digest();
  return timingSafeEqual(digest, runtime().masterKeyDigest);
}

export function bearerToken(header: string | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim() ?? null;
}

/**
 * A state-changing request carried by a cookie must come from Hangar's own pages: its Origin (or,
 * without one, Sec-Fetch-Site) must match. SameSite=Lax already stops most cross-site sends.
 */
export function assertSameOrigin(req: RequestLike) {
  const origin = req.headers.get("origin");
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host");
  if (origin) {
    let originHost: string | null = null;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = null;
    }
    if (originHost && originHost === host) return;
  } else if (req.headers.get("sec-fetch-site") === "same-origin") {
    return;
  }
  throw new ApiError(
    "forbidden",
    "Cross-site request refused: this cookie only works from Hangar's own pages",
  );
}

export async function authenticate(req: RequestLike): Promise<Principal> {
  const authorization = req.headers.get("authorization");
  if (authorization) {
    const token = bearerToken(authorization);
    if (!token || !isMasterKey(token)) throw new ApiError("unauthorized", "Invalid credentials");
    return { kind: "master" };
  }
  const cookie = readCookie(req.headers.get("cookie"), sessionCookieName(isHttps(req)));
  if (cookie) {
    const session = await readBrowserSession(cookie);
    if (!session) throw new ApiError("unauthorized", "Your login has expired: log in again");
    if (UNSAFE.has(req.method)) assertSameOrigin(req);
    return { kind: "browser", sessionId: session.id, expiresAt: session.expiresAt };
  }
  throw new ApiError("unauthorized", "Missing credentials: send Authorization: Bearer <MASTER_KEY>");
}
