import { createHmac, timingSafeEqual } from "node:crypto";

import { runtime } from "@/lib/runtime";
import type { OidcFlow } from "@/lib/teams/oidc-provider";

/*
 * An OIDC sign-in in progress lives in this cookie between the redirect to the provider and its
 * answer: the state, nonce and PKCE verifier, the redirect URI used (the code exchange must repeat
 * it exactly) and where to go after. It is signed with a key derived from the master key (as the
 * login cookie is, with another label), expires in ten minutes, and is HttpOnly and SameSite=Lax: the
 * provider's redirect back is a top-level GET, which Lax lets through. Over TLS it is
 * `__Host-hangar_oidc`. The callback clears it whatever the outcome, so a flow is used at most once.
 */

export const OIDC_COOKIE = "hangar_oidc";
export const SECURE_OIDC_COOKIE = "__Host-hangar_oidc";
export const OIDC_FLOW_TTL_MS = 10 * 60_000;

export type OidcFlowCookie = OidcFlow & { redirectUri: string; next: string; expiresAt: number };

export function oidcCookieName(secure: boolean): string {
  return secure ? SECURE_OIDC_COOKIE : OIDC_COOKIE;
}

function sign(payload: string): string {
  const key = createHmac("sha256", runtime().masterKeyDigest).update("hangar oidc flow v1").digest();
  return createHmac("sha256", key).update(payload).digest("base64url");
}

export function encodeOidcCookie(flow: Omit<OidcFlowCookie, "expiresAt">, now = Date.now()): string {
  const payload = Buffer.from(JSON.stringify({ ...flow, expiresAt: now + OIDC_FLOW_TTL_MS })).toString(
    "base64url",
  );
  return `${payload}.${sign(payload)}`;
}

/** The flow in a cookie value when its signature holds and it has not expired; else null. */
export function decodeOidcCookie(value: string | undefined): OidcFlowCookie | null {
  if (!value) return null;
  const [payload, signature, extra] = value.split(".");
  if (!payload || !signature || extra !== undefined) return null;
  const expected = Buffer.from(sign(payload));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let flow: Partial<OidcFlowCookie>;
  try {
    flow = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Partial<OidcFlowCookie>;
  } catch {
    return null;
  }
  const strings = [flow.state, flow.nonce, flow.verifier, flow.redirectUri, flow.next];
  if (strings.some((s) => typeof s !== "string") || typeof flow.expiresAt !== "number") return null;
  if (!(flow.expiresAt > Date.now())) return null;
  return flow as OidcFlowCookie;
}

export function oidcCookieHeader(value: string, secure: boolean): string {
  const attrs = [`${oidcCookieName(secure)}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax"];
  if (secure) attrs.push("Secure");
  attrs.push(value ? `Max-Age=${OIDC_FLOW_TTL_MS / 1000}` : "Max-Age=0");
  return attrs.join("; ");
}

export function clearOidcCookieHeader(secure: boolean): string {
  return oidcCookieHeader("", secure);
}
