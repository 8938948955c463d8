import * as client from "openid-client";

import { oidcSettings, type OidcSettings } from "@/lib/config";
import { runtime } from "@/lib/runtime";
import type { OidcErrorCode } from "@/lib/schemas/oidc";

/*
 * The OpenID Connect provider, through openid-client: discovery, the authorization URL (code flow
 * with PKCE S256, state and nonce) and the code exchange. openid-client checks the answer's state and
 * `iss`, sends the verifier, and checks the ID token's issuer, audience, nonce, expiry and times;
 * `enableNonRepudiationChecks` makes it verify the token's signature with the provider's JWKS too
 * (by default it relies on TLS to the token endpoint alone).
 */

/** What one sign-in keeps between the redirect to the provider and its answer. */
export type OidcFlow = { state: string; nonce: string; verifier: string };

/** Who the provider says signed in: its issuer and subject, and the email claims. */
export type OidcIdentity = {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
};

/** A refused sign-in: `code` is what the login page says; `reason` is for the log and audit only. */
export class OidcRefusal extends Error {
  constructor(
    readonly code: OidcErrorCode,
    readonly reason: string,
    readonly email: string | null = null,
  ) {
    super(`${code}: ${reason}`);
  }
}

const TIMEOUT_SECONDS = 10;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

let discovered: Promise<client.Configuration> | null = null;

export function configuredOidc(): OidcSettings | null {
  return oidcSettings(runtime().config);
}

/** client_secret_basic (OIDC's default), or client_secret_post when the provider offers only that. */
function clientSecretAuth(secret: string): client.ClientAuth {
  const basic = client.ClientSecretBasic(secret);
  const post = client.ClientSecretPost(secret);
  return (as, metadata, body, headers) => {
    const offered = as.token_endpoint_auth_methods_supported;
    const usePost =
      offered && !offered.includes("client_secret_basic") && offered.includes("client_secret_post");
    (usePost ? post : basic)(as, metadata, body, headers);
  };
}

/**
 * The error's name, code and message, and its cause's message (openid-client wraps the specific
 * reason) or the provider's error_description: never the cause's other fields, which can hold the
 * token response.
 */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const { error, error_description: said } = err as { error?: unknown; error_description?: unknown };
  const parts = [err.name, code, error].filter((p): p is string => typeof p === "string" && p !== "");
  const because = err.cause instanceof Error ? err.cause.message : typeof said === "string" ? said : null;
  return `${[...parts, err.message].join(": ")}${because ? ` (${because})` : ""}`;
}

function unreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    (err instanceof TypeError && err.message === "fetch failed") ||
    err.name === "TimeoutError" ||
    err.name === "AbortError"
  );
}

/** The provider's configuration, discovered once per process (again after a failure). */
async function provider(settings: OidcSettings): Promise<client.Configuration> {
  if (!discovered) {
    const issuer = new URL(settings.issuer);
    const execute = [client.enableNonRepudiationChecks];
    // The configuration allows plain HTTP only for a provider on this machine (lib/config.ts).
    if (issuer.protocol === "http:" && LOOPBACK.has(issuer.hostname))
      execute.push(client.allowInsecureRequests);
    const pending = client.discovery(
      issuer,
      settings.clientId,
      undefined,
      clientSecretAuth(settings.clientSecret),
      {
        execute,
        timeout: TIMEOUT_SECONDS,
      },
    );
    discovered = pending;
    pending.catch(() => {
      if (discovered === pending) discovered = null;
    });
  }
  try {
    return await discovered;
  } catch (err) {
    throw new OidcRefusal("unavailable", `discovery at ${settings.issuer} failed: ${describe(err)}`);
  }
}

/** The provider's authorization URL for a new sign-in, and what its answer is checked against. */
export async function beginOidc(settings: OidcSettings, redirectUri: string) {
  const config = await provider(settings);
  const flow: OidcFlow = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
  };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: settings.scopes,
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: "S256",
  });
  return { url, flow };
}

/**
 * Checks the provider's answer (`callbackUrl`: the redirect URI with the answer's query), trades the
 * code for tokens and verifies the ID token; the identity in it.
 */
export async function finishOidc(
  settings: OidcSettings,
  callbackUrl: URL,
  flow: OidcFlow,
): Promise<OidcIdentity> {
  const config = await provider(settings);
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
  } catch (err) {
    if (err instanceof client.AuthorizationResponseError && err.error === "access_denied")
      throw new OidcRefusal("cancelled", describe(err));
    throw new OidcRefusal(unreachable(err) ? "unavailable" : "rejected", describe(err));
  }
  const claims = tokens.claims();
  if (!claims) throw new OidcRefusal("rejected", "the token response had no ID token");
  const email =
    typeof claims.email === "string" && claims.email.trim() ? claims.email.trim().toLowerCase() : null;
  const name =
    typeof claims.name === "string" && claims.name.trim() ? claims.name.trim().slice(0, 200) : null;
  return {
    issuer: config.serverMetadata().issuer,
    subject: claims.sub,
    email,
    // Some providers (Amazon Cognito) send the string "true".
    emailVerified: claims.email_verified === true || claims.email_verified === "true",
    name,
  };
}
