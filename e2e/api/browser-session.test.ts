import { describe, expect, inject, it } from "vitest";

import { api } from "../support/api";

const origin = () => inject("baseUrl");

async function login(key = inject("masterKey")) {
  const res = await fetch(`${origin()}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: origin() },
    body: JSON.stringify({ master_key: key }),
  });
  return { res, cookie: res.headers.get("set-cookie") ?? "" };
}

const cookiePair = (setCookie: string) => setCookie.split(";")[0] as string;

describe("browser sessions (cookie auth)", () => {
  it("login sets an HttpOnly, SameSite, expiring cookie that does not contain the key", async () => {
    const { res, cookie } = await login();
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.kind).toBe("browser");
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now());
    expect(cookie).toMatch(/^hangar_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Expires=/);
    expect(cookie).not.toContain(inject("masterKey"));
    expect(cookie).not.toContain(encodeURIComponent(inject("masterKey")));
  });

  it("a wrong key → 401 and no cookie", async () => {
    const { res, cookie } = await login("not-the-key-at-all");
    expect(res.status).toBe(401);
    expect(cookie).toBe("");
  });

  it("the cookie authorises reads; writes need Hangar's own origin", async () => {
    const pair = cookiePair((await login()).cookie);
    const read = await api("GET", "/api/v1/skills", { key: null, headers: { cookie: pair } });
    expect(read.status).toBe(200);
    const body = { name: "csrf", content: "c" };
    const noOrigin = await api("POST", "/api/v1/skills", { key: null, body, headers: { cookie: pair } });
    expect(noOrigin.status).toBe(403);
    expect(noOrigin.body.error.code).toBe("forbidden");
    const evil = await api("POST", "/api/v1/skills", {
      key: null,
      body,
      headers: { cookie: pair, origin: "https://evil.example" },
    });
    expect(evil.status).toBe(403);
    const sameSite = await api("POST", "/api/v1/skills", {
      key: null,
      body,
      headers: { cookie: pair, "sec-fetch-site": "same-origin" },
    });
    expect(sameSite.status).toBe(201);
    const own = await api("POST", "/api/v1/skills", {
      key: null,
      body,
      headers: { cookie: pair, origin: origin() },
    });
    expect(own.status).toBe(201);
  });

  it("a tampered or forged cookie → 401", async () => {
    const pair = cookiePair((await login()).cookie);
    const [name, value] = pair.split("=") as [string, string];
    const [id, expires, sig] = value.split(".") as [string, string, string];
    const later = `${name}=${id}.${Number(expires) + 86_400_000}.${sig}`;
    const otherId = `${name}=bs_forged.${expires}.${sig}`;
    for (const cookie of [later, otherId, `${name}=garbage`, `${name}=a.b.c`]) {
      const res = await api("GET", "/api/v1/skills", { key: null, headers: { cookie } });
      expect(res.status, cookie).toBe(401);
    }
  });

  it("logout revokes the login for real: the old cookie stops working", async () => {
    const pair = cookiePair((await login()).cookie);
    const out = await fetch(`${origin()}/api/v1/auth/logout`, {
      method: "POST",
      headers: { cookie: pair, origin: origin() },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^hangar_session=; .*Max-Age=0/);
    const after = await api("GET", "/api/v1/skills", { key: null, headers: { cookie: pair } });
    expect(after.status).toBe(401);
  });

  it("GET /api/v1/auth/session tells who is calling", async () => {
    expect((await api("GET", "/api/v1/auth/session")).body).toEqual({
      kind: "master",
      expires_at: null,
      user: null,
      key: null,
      workspace: { id: "ws_default", name: "Default" },
      role: "admin",
    });
    const pair = cookiePair((await login()).cookie);
    const res = await api("GET", "/api/v1/auth/session", { key: null, headers: { cookie: pair } });
    expect(res.body.kind).toBe("browser");
  });

  it("pages redirect to /login without a valid cookie", async () => {
    for (const page of ["/agents", "/agents/new", "/skills"]) {
      const res = await fetch(`${origin()}${page}`, { redirect: "manual" });
      expect([307, 303, 302], page).toContain(res.status);
      expect(res.headers.get("location")).toMatch(/\/login/);
    }
  });
});
