import { log } from "@/lib/log";
import { AFTER_LOGIN, safeNextPath } from "@/lib/safe-next";
import type { OidcErrorCode } from "@/lib/schemas/oidc";
import { recordFailedLogin, startLogin } from "@/lib/teams/login";
import { accountForOidc } from "@/lib/teams/oidc";
import { beginOidc, configuredOidc, finishOidc, OidcRefusal } from "@/lib/teams/oidc-provider";

import { readCookie, sessionCookieHeader } from "./browser-session";
import type { Reply } from "./handler";
import { takeLoginAttempt } from "./login-limit";
import {
  clearOidcCookieHeader,
  decodeOidcCookie,
  encodeOidcCookie,
  oidcCookieHeader,
  oidcCookieName,
} from "./oidc-cookie";
import { clientAddress, isHttps, publicOrigin, type RequestLike } from "./transport";

/*
 * The two redirects of an OIDC sign-in (lib/api/operations/oidc.ts describes them). Neither answers
 * JSON: a browser follows them, so every refusal is a redirect to the login page with a code it turns
 * into a sentence (lib/schemas/oidc.ts), logged and audited with its reason, never with a token.
 */

export const OIDC_CALLBACK_PATH = "/api/v1/auth/oidc/callback";

function redirect(location: string, cookies: string[] = []): Reply {
  return { status: 302, headers: { location, "cache-control": "no-store", "set-cookie": cookies } };
}

function loginPage(code: OidcErrorCode, email: string | null, next: string): string {
  const query = new URLSearchParams({ oidc_error: code });
  if (email) query.set("email", email);
  if (next !== AFTER_LOGIN) query.set("next", next);
  return `/login?${query}`;
}

/**
 * Logs and audits a refusal. Audited refusals take from the client's login attempts (as a wrong
 * password does), so anyone can open these URLs but nobody can grow the audit log without bound.
 */
async function refuse(req: RequestLike, requestId: string, refusal: OidcRefusal) {
  const client = clientAddress(req);
  const overLimit = takeLoginAttempt(client) !== null;
  log.warn("oidc sign-in refused", {
    requestId,
    code: refusal.code,
    reason: refusal.reason,
    ...(overLimit ? { audited: false, why: "over the login attempt limit of this address" } : {}),
  });
  if (overLimit) return;
  await recordFailedLogin(refusal.email, client, requestId, {
    label: "oidc sign-in",
    detail: { method: "oidc", refusal: refusal.code, reason: refusal.reason },
  });
}

function asRefusal(err: unknown, requestId: string): OidcRefusal {
  if (err instanceof OidcRefusal) return err;
  log.error("oidc sign-in failed", { requestId, err });
  return new OidcRefusal("rejected", `unexpected error (request ${requestId})`);
}

/** GET /auth/oidc/start: to the provider, with this flow's cookie; or back to the login page. */
export async function startOidcSignIn(req: RequestLike, next: string | undefined, requestId: string) {
  const target = safeNextPath(next);
  const secure = isHttps(req);
  try {
    const settings = configuredOidc();
    if (!settings) throw new OidcRefusal("not_configured", "no OIDC provider is configured");
    const redirectUri = `${publicOrigin(req)}${OIDC_CALLBACK_PATH}`;
    const { url, flow } = await beginOidc(settings, redirectUri);
    const cookie = encodeOidcCookie({ ...flow, redirectUri, next: target });
    return redirect(url.href, [oidcCookieHeader(cookie, secure)]);
  } catch (err) {
    const refusal = asRefusal(err, requestId);
    await refuse(req, requestId, refusal);
    return redirect(loginPage(refusal.code, refusal.email, target));
  }
}

/** GET /auth/oidc/callback: verify the provider's answer, find the account, log in. */
export async function finishOidcSignIn(req: RequestLike, requestId: string): Promise<Reply> {
  const secure = isHttps(req);
  const flow = decodeOidcCookie(readCookie(req.headers.get("cookie"), oidcCookieName(secure)));
  // Whatever happens, this flow is over: its cookie goes.
  const cleared = clearOidcCookieHeader(secure);
  const next = safeNextPath(flow?.next);
  try {
    const settings = configuredOidc();
    if (!settings) throw new OidcRefusal("not_configured", "no OIDC provider is configured");
    if (!flow) throw new OidcRefusal("expired", "no valid sign-in cookie: missing, altered or expired");
    const queryAt = req.url.indexOf("?");
    // The redirect URI exactly as sent at the start, with the provider's answer as its query.
    const callbackUrl = new URL(flow.redirectUri);
    callbackUrl.search = queryAt < 0 ? "" : req.url.slice(queryAt);
    const identity = await finishOidc(settings, callbackUrl, flow);
    const account = await accountForOidc(identity, requestId);
    const { session } = await startLogin(
      req.headers.get("user-agent"),
      account.user.id,
      requestId,
      account.workspaceId,
    );
    return redirect(next, [cleared, sessionCookieHeader(session.cookie, session.expiresAt, secure)]);
  } catch (err) {
    const refusal = asRefusal(err, requestId);
    await refuse(req, requestId, refusal);
    return redirect(loginPage(refusal.code, refusal.email, next), [cleared]);
  }
}
