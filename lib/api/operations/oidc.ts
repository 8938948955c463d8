import { authProvidersSchema, oidcCallbackQuerySchema, oidcStartQuerySchema } from "@/lib/schemas/oidc";

import { defineOperation } from "../operation";

const toLogin =
  "A refusal redirects to `/login?oidc_error=<code>` (with `&email=` where the message names it), " +
  "which the login page turns into a sentence, and is audited as `auth.login_failed` (refusals count " +
  "against the address's login attempts, like wrong passwords).";

/** Sign-in with an OpenID Connect provider (README "Sign-in with OIDC"), when one is configured. */
export const oidcOperations = {
  listAuthProviders: defineOperation({
    id: "listAuthProviders",
    auth: "none",
    method: "GET",
    path: "/api/v1/auth/providers",
    tag: "Auth",
    summary: "The sign-in providers besides the master key and passwords (for the login page)",
    responses: {
      200: { description: "`oidc` is null when no provider is configured", schema: authProvidersSchema },
    },
  }),
  startOidc: defineOperation({
    id: "startOidc",
    auth: "none",
    method: "GET",
    path: "/api/v1/auth/oidc/start",
    tag: "Auth",
    summary: "Begin an OIDC sign-in: redirect to the provider",
    description:
      "Redirects (302) to the provider's authorization endpoint: the authorization code flow with PKCE " +
      "(S256), `state` and `nonce`, which are kept in a signed, HttpOnly, SameSite=Lax cookie for ten " +
      "minutes (`__Host-hangar_oidc` over TLS). `next` is where to land afterwards, a path of this origin. " +
      toLogin,
    query: oidcStartQuerySchema,
    responses: { 302: { description: "To the provider, or to the login page when sign-in is unavailable" } },
  }),
  finishOidc: defineOperation({
    id: "finishOidc",
    auth: "none",
    method: "GET",
    path: "/api/v1/auth/oidc/callback",
    tag: "Auth",
    summary: "The provider's redirect back: verify, find or create the account, log in",
    description:
      "Register `<origin>/api/v1/auth/oidc/callback` at the provider. Checks `state` and `iss`, trades " +
      "the code (with the PKCE verifier) for tokens and verifies the ID token (issuer, audience, nonce, " +
      "expiry, and its signature by the provider's JWKS). The account is the user linked to the ID " +
      "token's issuer and subject; else the user with its email, if `email_verified` is true (linked from " +
      "then on); else, only if an invite is open for that email, a new user without a password who joins " +
      "by it. On success the session cookie is set and the browser goes to `next` (or /agents). " +
      toLogin,
    query: oidcCallbackQuerySchema,
    responses: { 302: { description: "Signed in (to `next`), or refused (to the login page)" } },
  }),
};
