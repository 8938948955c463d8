import fs from "node:fs";

import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";

import { oidcErrorMessage } from "@/lib/schemas/oidc";

import { api, callServer, unique } from "../support/api";
import { startOidcStandin, type OidcStandin, type StandinUser } from "../support/oidc-standin";
import { createTestDatabase, startServer, type TestServer } from "../support/server";

/*
 * OIDC sign-in against the in-repo stand-in provider (e2e/support/oidc-standin.ts), driven the way a
 * browser would: plain fetch, redirects followed by hand, cookies carried by hand.
 */

const SECRET = `oidc-secret-${unique("s")}`;
const CLIENT_ID = "hangar-e2e";

let standin: OidcStandin;
let server: TestServer;
let dropDatabase: (() => Promise<void>) | undefined;
/** Everything any response of this suite said (headers and bodies), to look for the secret in. */
const seen: string[] = [];

async function get(url: string, cookie?: string) {
  const res = await fetch(url, { redirect: "manual", headers: cookie ? { cookie } : {} });
  const text = await res.text();
  seen.push(JSON.stringify([...res.headers.entries()]), text);
  return {
    status: res.status,
    location: res.headers.get("location"),
    cookies: res.headers.getSetCookie(),
    text,
  };
}

const pair = (setCookie: string | undefined) => (setCookie ?? "").split(";")[0] as string;
const cookieNamed = (cookies: string[], name: string) => cookies.find((c) => c.startsWith(`${name}=`));

/** Hangar's start: the redirect to the provider and the flow cookie. */
async function begin(next?: string) {
  const res = await get(
    `${server.url}/api/v1/auth/oidc/start${next ? `?next=${encodeURIComponent(next)}` : ""}`,
  );
  expect(res.status).toBe(302);
  return { authorizeUrl: res.location as string, flowCookie: pair(cookieNamed(res.cookies, "hangar_oidc")) };
}

/** The provider's approval: the redirect back to Hangar's callback. */
async function approve(authorizeUrl: string) {
  const res = await get(authorizeUrl);
  expect(res.status, res.text).toBe(302);
  return new URL(res.location as string);
}

/** Hangar's callback: where it sends the browser, and the login cookie if it set one. */
async function callback(callbackUrl: URL | string, flowCookie: string) {
  const res = await get(String(callbackUrl), flowCookie);
  expect(res.status).toBe(302);
  const location = new URL(res.location as string, server.url);
  return {
    location,
    session: pair(cookieNamed(res.cookies, "hangar_session")) || null,
    flowCleared: cookieNamed(res.cookies, "hangar_oidc")?.includes("Max-Age=0") ?? false,
  };
}

async function signIn(user: StandinUser, next?: string) {
  standin.user = user;
  const { authorizeUrl, flowCookie } = await begin(next);
  return callback(await approve(authorizeUrl), flowCookie);
}

function refusal(location: URL) {
  expect(location.pathname).toBe("/login");
  const code = location.searchParams.get("oidc_error");
  return { code, message: oidcErrorMessage(code, location.searchParams.get("email")) };
}

async function whoAmI(session: string) {
  const res = await get(`${server.url}/api/v1/auth/session`, session);
  expect(res.status).toBe(200);
  return JSON.parse(res.text) as { user: { id: string; email: string } | null; role: string; kind: string };
}

async function failedLogins() {
  const res = await callServer(server, "GET", "/api/v1/audit?action=auth.login_failed&limit=500");
  expect(res.status).toBe(200);
  return res.body.data as {
    actor: { label: string };
    detail: { method?: string; refusal?: string; reason?: string };
  }[];
}

/** Why the last refused sign-in was refused, as its audit entry says. */
async function lastReason() {
  return (await failedLogins()).at(-1)?.detail.reason;
}

async function invite(email: string, role = "operator") {
  const res = await callServer(server, "POST", "/api/v1/invites", { email, role });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; token: string };
}

const person = (label: string, extra: Partial<StandinUser> = {}): StandinUser => {
  const id = unique(label);
  return { sub: `sub-${id}`, email: `${id}@example.test`, email_verified: true, name: label, ...extra };
};

beforeAll(async () => {
  standin = await startOidcStandin({ clientId: CLIENT_ID, clientSecret: SECRET, user: person("nobody") });
  const database = inject("dbChoice") === "postgres" ? await createTestDatabase() : null;
  dropDatabase = database?.drop;
  server = await startServer({
    databaseUrl: database?.url,
    env: {
      HANGAR_OIDC_ISSUER: standin.issuer,
      HANGAR_OIDC_CLIENT_ID: CLIENT_ID,
      HANGAR_OIDC_CLIENT_SECRET: SECRET,
      HANGAR_OIDC_NAME: "Stand-in SSO",
      LOG_LEVEL: "debug",
    },
  });
  standin.redirectUris.push(`${server.url}/api/v1/auth/oidc/callback`);
});

afterAll(async () => {
  await server?.stop();
  await dropDatabase?.();
  await standin?.stop();
});

afterEach(() => {
  standin.mischief = {};
  standin.clientSecret = SECRET;
});

describe("OIDC sign-in", () => {
  it("GET /api/v1/auth/providers names the provider; a Hangar without one says null", async () => {
    const res = await get(`${server.url}/api/v1/auth/providers`);
    expect(JSON.parse(res.text)).toEqual({ oidc: { name: "Stand-in SSO" } });
    const shared = await api("GET", "/api/v1/auth/providers", { key: null });
    expect(shared.body).toEqual({ oidc: null });
    const start = await fetch(`${inject("baseUrl")}/api/v1/auth/oidc/start`, { redirect: "manual" });
    expect(start.status).toBe(302);
    expect(start.headers.get("location")).toBe("/login?oidc_error=not_configured");
  });

  it("start: code flow with PKCE S256, state and nonce; the flow cookie is signed, HttpOnly, Lax, short", async () => {
    const res = await get(`${server.url}/api/v1/auth/oidc/start?next=${encodeURIComponent("/skills")}`);
    const url = new URL(res.location as string);
    expect(url.origin + url.pathname).toBe(`${standin.issuer}/authorize`);
    const q = url.searchParams;
    expect(q.get("response_type")).toBe("code");
    expect(q.get("client_id")).toBe(CLIENT_ID);
    expect(q.get("redirect_uri")).toBe(`${server.url}/api/v1/auth/oidc/callback`);
    expect(q.get("scope")).toBe("openid email profile");
    expect(q.get("code_challenge_method")).toBe("S256");
    for (const name of ["state", "nonce", "code_challenge"]) expect(q.get(name)?.length).toBeGreaterThan(20);
    const cookie = cookieNamed(res.cookies, "hangar_oidc") as string;
    expect(cookie).toMatch(/^hangar_oidc=[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/);
    // The verifier only travels to the token endpoint: never in the URL.
    expect(res.location).not.toContain("code_verifier");
  });

  it("no account and no invite → refused with the message, audited, no login cookie", async () => {
    const nobody = person("nobody");
    const before = (await failedLogins()).length;
    const result = await signIn(nobody);
    expect(result.session).toBeNull();
    expect(result.flowCleared).toBe(true);
    expect(refusal(result.location)).toEqual({
      code: "no_account",
      message: `No Hangar account for ${nobody.email}: ask an admin to invite you`,
    });
    const failed = (await failedLogins()).slice(before);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      actor: { label: nobody.email },
      detail: { method: "oidc", refusal: "no_account" },
    });
  });

  it("an open invite: the sign-in creates the user with the invite's role, logs in, lands on next", async () => {
    const invited = person("invited");
    const made = await invite(invited.email as string, "operator");
    const result = await signIn(invited, "/skills");
    expect(result.location.pathname).toBe("/skills");
    expect(result.session).toMatch(/^hangar_session=/);
    expect(result.flowCleared).toBe(true);
    const me = await whoAmI(result.session as string);
    expect(me).toMatchObject({ kind: "browser", role: "operator", user: { email: invited.email } });
    const open = await callServer(server, "GET", "/api/v1/invites");
    expect(open.body.data.map((i: { id: string }) => i.id)).not.toContain(made.id);
    // The account has no password: password login with anything fails.
    const pw = await fetch(`${server.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: invited.email, password: "anything-at-all" }),
    });
    expect(pw.status).toBe(401);
    // Hangar authenticated to the token endpoint with client_secret_basic, OIDC's default.
    expect(standin.tokenRequests.at(-1)).toEqual({
      method: "client_secret_basic",
      error: null,
      description: null,
    });
  });

  it("a second sign-in finds the user by subject, even after the provider's email changed", async () => {
    const user = person("again");
    await invite(user.email as string, "viewer");
    const first = await whoAmI((await signIn(user)).session as string);
    const renamed = { ...user, email: `renamed-${user.email}` };
    const second = await signIn(renamed);
    expect(second.location.pathname).toBe("/agents");
    const again = await whoAmI(second.session as string);
    expect(again.user?.id).toBe(first.user?.id);
    expect(again.user?.email).toBe(user.email);
    expect(again.role).toBe("viewer");
  });

  it("an existing password account with the verified email is linked, then matched by subject", async () => {
    const user = person("linked");
    const { token } = await invite(user.email as string, "admin");
    const accepted = await fetch(`${server.url}/api/v1/invites/accept/${token}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: "a-long-enough-password" }),
    });
    expect(accepted.status).toBe(200);
    const local = (await accepted.json()) as { user: { id: string } };
    const viaOidc = await whoAmI((await signIn(user)).session as string);
    expect(viaOidc).toMatchObject({ role: "admin", user: { id: local.user.id } });
    // Someone else at the provider with that email now (another subject) is not this account.
    const impostor = await signIn({ ...user, sub: `other-${user.sub}` });
    expect(impostor.session).toBeNull();
    expect(refusal(impostor.location).code).toBe("linked_elsewhere");
  });

  it("an unverified email neither matches an account nor uses an invite", async () => {
    for (const emailVerified of [false, undefined, "yes"]) {
      const user = person("unverified", { email_verified: emailVerified });
      const made = await invite(user.email as string);
      const result = await signIn(user);
      expect(result.session).toBeNull();
      expect(refusal(result.location)).toEqual({
        code: "unverified_email",
        message: `The provider has not verified ${user.email}: verify it there first`,
      });
      const open = await callServer(server, "GET", "/api/v1/invites");
      expect(open.body.data.map((i: { id: string }) => i.id)).toContain(made.id);
    }
  });

  it("no email claim → refused", async () => {
    const result = await signIn({ sub: `sub-${unique("mail")}` });
    expect(refusal(result.location).code).toBe("no_email");
  });

  describe("what a forged or broken answer gets", () => {
    let user: StandinUser;

    beforeAll(async () => {
      user = person("target");
      await invite(user.email as string);
      await signIn(user);
    });

    async function refusedAs(expected: string, result: Awaited<ReturnType<typeof callback>>) {
      expect(result.session).toBeNull();
      expect(result.flowCleared).toBe(true);
      expect(refusal(result.location).code).toBe(expected);
    }

    it("a tampered state → refused, and the code is never exchanged", async () => {
      standin.user = user;
      const { authorizeUrl, flowCookie } = await begin();
      const back = await approve(authorizeUrl);
      back.searchParams.set("state", `${back.searchParams.get("state")}x`);
      const exchanges = standin.tokenRequests.length;
      await refusedAs("rejected", await callback(back, flowCookie));
      expect(standin.tokenRequests.length).toBe(exchanges);
      expect(await lastReason()).toContain('unexpected "state" response parameter value');
    });

    it("a missing, altered or foreign flow cookie → refused as expired", async () => {
      standin.user = user;
      const { authorizeUrl, flowCookie } = await begin();
      const back = await approve(authorizeUrl);
      const [name, value] = flowCookie.split("=") as [string, string];
      const [payload, signature] = value.split(".") as [string, string];
      const forged = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), next: "/x" }),
      );
      for (const cookie of [
        "",
        `${name}=${payload}.${signature.slice(0, -2)}AA`,
        `${name}=${forged.toString("base64url")}.${signature}`,
      ])
        await refusedAs("expired", await callback(back, cookie));
    });

    it("a replayed callback → refused (the provider takes a code once)", async () => {
      standin.user = user;
      const { authorizeUrl, flowCookie } = await begin();
      const back = await approve(authorizeUrl);
      expect((await callback(back, flowCookie)).session).toMatch(/^hangar_session=/);
      await refusedAs("rejected", await callback(back, flowCookie));
      expect(standin.tokenRequests.at(-1)?.description).toBe("code already used");
    });

    it("another flow's code (injected into this one) → refused: its PKCE verifier does not match", async () => {
      standin.user = user;
      const theirs = await approve((await begin()).authorizeUrl);
      const mine = await begin();
      const myAnswer = await approve(mine.authorizeUrl);
      myAnswer.searchParams.set("code", theirs.searchParams.get("code") as string);
      await refusedAs("rejected", await callback(myAnswer, mine.flowCookie));
      expect(standin.tokenRequests.at(-1)?.description).toBe(
        "code_verifier does not match the code_challenge",
      );
    });

    it.each([
      ["a wrong nonce", { nonce: "not-the-nonce-hangar-sent" }, 'unexpected ID Token "nonce" claim value'],
      ["an expired ID token", { expired: true }, "expiration is past current timestamp"],
      [
        "an ID token signed with a key not in the JWKS",
        { wrongKey: true },
        "JWT signature verification failed",
      ],
    ])("%s → refused", async (_, mischief, reason) => {
      standin.mischief = mischief;
      await refusedAs("rejected", await signIn(user));
      // The provider did issue tokens: Hangar refused what was in them, for this reason.
      expect(standin.tokenRequests.at(-1)?.error).toBeNull();
      expect(await lastReason()).toContain(reason);
    });

    it("a wrong client secret → refused (the provider rejects the client)", async () => {
      standin.clientSecret = "the-provider-now-expects-another-secret";
      await refusedAs("rejected", await signIn(user));
      expect(standin.tokenRequests.at(-1)?.error).toBe("invalid_client");
      expect(await lastReason()).toContain("invalid_client");
    });

    it("cancelled at the provider → refused as cancelled", async () => {
      standin.mischief = { deny: true };
      await refusedAs("cancelled", await signIn(user));
    });

    it("each refusal is audited as auth.login_failed with its reason", async () => {
      const failed = (await failedLogins()).filter((e) => e.detail.method === "oidc");
      const codes = new Set(failed.map((e) => e.detail.refusal));
      for (const code of [
        "rejected",
        "expired",
        "cancelled",
        "no_account",
        "unverified_email",
        "linked_elsewhere",
      ])
        expect(codes, code).toContain(code);
    });
  });

  it("next is kept to this origin", async () => {
    const user = person("next");
    await invite(user.email as string);
    for (const next of ["//evil.example/x", "https://evil.example", "/\\evil.example"]) {
      const result = await signIn(user, next);
      expect(result.location.origin + result.location.pathname).toBe(`${server.url}/agents`);
    }
  });

  // Every refusal above is audited: together they stay within the address's burst of login
  // attempts (lib/api/login-limit.ts). This one drains it.
  it("refusals are audited up to the login attempt limit of the address, then only logged", async () => {
    const before = (await failedLogins()).length;
    const tries = 25;
    for (let i = 0; i < tries; i++)
      expect(
        refusal((await callback(`${server.url}/api/v1/auth/oidc/callback?code=x&state=y`, "")).location).code,
      ).toBe("expired");
    const audited = (await failedLogins()).length - before;
    expect(audited).toBeLessThan(tries);
    expect(fs.readFileSync(server.logFile, "utf8")).toContain('"audited":false');
  });

  it("HANGAR_OIDC_CLIENT_SECRET appears in no response and nowhere in the server's log", async () => {
    const doc = await get(`${server.url}/api/v1/openapi.json`);
    expect(doc.text).toContain("/api/v1/auth/oidc/callback");
    expect(seen.length).toBeGreaterThan(50);
    for (const text of seen) expect(text).not.toContain(SECRET);
    const logged = fs.readFileSync(server.logFile, "utf8");
    expect(logged).toContain("oidc sign-in refused");
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(Buffer.from(`${CLIENT_ID}:${SECRET}`).toString("base64"));
  });
});
