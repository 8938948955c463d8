/*
 * A stand-in OpenID Connect provider for tests, not a real one: a small node:http server with
 * discovery, a JWKS (an RS256 key made at start), /authorize that approves at once as the configured
 * test user, and /token. It is strict where a client can get things wrong: the redirect URI must match
 * a registered one exactly, PKCE (S256) is required, a code works once and only with its verifier, and
 * the client must authenticate with its secret (client_secret_basic or client_secret_post). `mischief`
 * makes the next ID tokens wrong in one way, so tests can show the client refuses them.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export type StandinUser = {
  sub: string;
  email?: string;
  /** As sent in the ID token; leave unset to send none. */
  email_verified?: boolean | string;
  name?: string;
};

export type Mischief = {
  /** The ID token carries this nonce instead of the one asked for. */
  nonce?: string;
  /** The ID token expired an hour ago. */
  expired?: boolean;
  /** The ID token is signed with a key that is not in the JWKS (same `kid`). */
  wrongKey?: boolean;
  /** /authorize answers `error=access_denied`, as when the person clicks "Cancel". */
  deny?: boolean;
};

export type AuthMethod = "client_secret_basic" | "client_secret_post";

export type OidcStandin = {
  issuer: string;
  clientId: string;
  /** The secret /token accepts; change it to act as if the client's secret were wrong. */
  clientSecret: string;
  /** Redirect URIs registered for the client (exact match). */
  redirectUris: string[];
  /** Who /authorize signs in as. */
  user: StandinUser;
  mischief: Mischief;
  /** Every /token answer, newest last: how the client authenticated and the error, if any. */
  tokenRequests: { method: AuthMethod | "none" | "both"; error: string | null; description: string | null }[];
  stop: () => Promise<void>;
};

type Grant = {
  redirectUri: string;
  challenge: string;
  nonce: string | undefined;
  scope: string;
  user: StandinUser;
  expiresAt: number;
  used: boolean;
};

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

function signJwt(claims: Record<string, unknown>, key: KeyObject, kid: string): string {
  const input = `${b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign("sha256", Buffer.from(input), key))}`;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** RFC 6749 §2.3.1: both halves of Basic credentials are form-encoded before base64. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const match = /^Basic\s+(.+)$/i.exec(header ?? "");
  if (!match) return null;
  const decoded = Buffer.from(match[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
  return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
}

export async function startOidcStandin(opts: {
  clientId: string;
  clientSecret: string;
  user: StandinUser;
  authMethods?: AuthMethod[];
}): Promise<OidcStandin> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const kid = `standin-${randomBytes(4).toString("hex")}`;
  const authMethods = opts.authMethods ?? ["client_secret_basic", "client_secret_post"];
  const grants = new Map<string, Grant>();

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const standin: OidcStandin = {
    issuer,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    redirectUris: [],
    user: opts.user,
    mischief: {},
    tokenRequests: [],
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };

  function authorize(url: URL, res: http.ServerResponse) {
    const q = url.searchParams;
    const redirectUri = q.get("redirect_uri") ?? "";
    // An unknown client or redirect URI is shown to the person, never redirected to.
    if (q.get("client_id") !== standin.clientId || !standin.redirectUris.includes(redirectUri))
      return send(res, 400, {
        error: "invalid_request",
        error_description: "unknown client or redirect_uri",
      });
    const back = new URL(redirectUri);
    const answer = (params: Record<string, string>) => {
      for (const [k, v] of Object.entries({ ...params, iss: issuer })) back.searchParams.set(k, v);
      const state = q.get("state");
      if (state !== null) back.searchParams.set("state", state);
      res.writeHead(302, { location: back.href }).end();
    };
    if (q.get("response_type") !== "code") return answer({ error: "unsupported_response_type" });
    if (!(q.get("scope") ?? "").split(" ").includes("openid")) return answer({ error: "invalid_scope" });
    const challenge = q.get("code_challenge");
    if (!challenge || q.get("code_challenge_method") !== "S256")
      return answer({ error: "invalid_request", error_description: "PKCE with S256 is required" });
    if (standin.mischief.deny) return answer({ error: "access_denied" });
    const code = b64url(randomBytes(24));
    grants.set(code, {
      redirectUri,
      challenge,
      nonce: q.get("nonce") ?? undefined,
      scope: q.get("scope") ?? "",
      user: { ...standin.user },
      expiresAt: Date.now() + 60_000,
      used: false,
    });
    answer({ code });
  }

  async function token(req: http.IncomingMessage, res: http.ServerResponse) {
    const form = await readForm(req);
    const basic = basicCredentials(req.headers.authorization);
    const posted = form.has("client_secret");
    const method =
      basic && posted ? "both" : basic ? "client_secret_basic" : posted ? "client_secret_post" : "none";
    const fail = (status: number, error: string, description: string) => {
      standin.tokenRequests.push({ method, error, description });
      send(res, status, { error, error_description: description });
    };
    const id = basic ? basic.id : form.get("client_id");
    const secret = basic ? basic.secret : form.get("client_secret");
    if (method === "none" || method === "both" || !authMethods.includes(method))
      return fail(401, "invalid_client", `client authentication ${method} is not accepted`);
    if (id !== standin.clientId || secret !== standin.clientSecret)
      return fail(401, "invalid_client", "wrong client id or secret");
    if (form.get("grant_type") !== "authorization_code")
      return fail(400, "unsupported_grant_type", "only authorization_code");
    const grant = grants.get(form.get("code") ?? "");
    if (!grant || grant.expiresAt < Date.now()) return fail(400, "invalid_grant", "unknown or expired code");
    if (grant.used) return fail(400, "invalid_grant", "code already used");
    grant.used = true;
    if (form.get("redirect_uri") !== grant.redirectUri)
      return fail(400, "invalid_grant", "redirect_uri differs");
    const verifier = form.get("code_verifier") ?? "";
    if (b64url(createHash("sha256").update(verifier).digest()) !== grant.challenge)
      return fail(400, "invalid_grant", "code_verifier does not match the code_challenge");

    const now = Math.floor(Date.now() / 1000);
    const { mischief } = standin;
    const iat = mischief.expired ? now - 7200 : now;
    const { sub, email, email_verified, name } = grant.user;
    const claims = {
      iss: issuer,
      sub,
      aud: standin.clientId,
      iat,
      exp: mischief.expired ? now - 3600 : now + 3600,
      auth_time: iat,
      ...(grant.nonce !== undefined || mischief.nonce ? { nonce: mischief.nonce ?? grant.nonce } : {}),
      ...(email !== undefined ? { email } : {}),
      ...(email_verified !== undefined ? { email_verified } : {}),
      ...(name !== undefined ? { name } : {}),
    };
    standin.tokenRequests.push({ method, error: null, description: null });
    send(res, 200, {
      access_token: b64url(randomBytes(24)),
      token_type: "Bearer",
      expires_in: 3600,
      scope: grant.scope,
      id_token: signJwt(claims, mischief.wrongKey ? stranger : privateKey, kid),
    });
  }

  server.on("request", (req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /.well-known/openid-configuration")
      return send(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: authMethods,
        code_challenge_methods_supported: ["S256"],
        scopes_supported: ["openid", "email", "profile"],
        authorization_response_iss_parameter_supported: true,
      });
    if (route === "GET /jwks")
      return send(res, 200, {
        keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }],
      });
    if (route === "GET /authorize") return authorize(url, res);
    if (route === "POST /token")
      return void token(req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
    send(res, 404, { error: "not_found" });
  });

  return standin;
}
