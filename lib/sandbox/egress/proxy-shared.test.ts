import { once } from "node:events";
import http from "node:http";
import net from "node:net";

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import { collect, type Reply } from "@/e2e/support/proxy-reply";

import { compileEgressPolicy, type EgressPolicy } from "./policy";
import { createEgressProxy } from "./proxy";
import type { EgressDecision, SharedEgressOptions } from "./types";
import { secretsMatch } from "./wire";

/*
 * The shared listener (gateway role): one TCP port for every session, each request authenticated with
 * `Proxy-Authorization: Basic <sessionId>:<password>`. Made-up names resolve to a public documentation
 * address so the private-address guard passes them, and the `dial` hook sends the checked connection to
 * a loopback server playing the internet. Every dial is recorded: a refused request must dial nothing.
 */

let internet: http.Server;
let internetPort: number;
const seen: http.IncomingHttpHeaders[] = [];
const dialed: string[] = [];
const proxies: ReturnType<typeof createEgressProxy>[] = [];

const PUBLIC = "198.51.100.7";
const PASSWORDS: Record<string, string> = { ses_a: "pw-a-secret", ses_b: "pw-b-secret" };
const POLICIES: Record<string, EgressPolicy | null> = {
  ses_a: compileEgressPolicy({ allow: ["allowed.test"], deny: [] }),
  ses_b: compileEgressPolicy({ allow: [], deny: ["allowed.test"] }),
  ses_dead: null,
};
PASSWORDS.ses_dead = "pw-dead-secret";

beforeAll(async () => {
  internet = http.createServer((req, res) => {
    seen.push(req.headers);
    res.end(`hello from ${req.headers.host}`);
  });
  internet.listen(0, "127.0.0.1");
  await once(internet, "listening");
  internetPort = (internet.address() as net.AddressInfo).port;
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.closeAll()));
  seen.length = 0;
  dialed.length = 0;
});

afterAll(async () => {
  internet.closeAllConnections();
  await new Promise((r) => internet.close(r));
});

async function startShared(overrides: Partial<SharedEgressOptions> = {}) {
  const decisions: EgressDecision[] = [];
  const lookups: string[] = [];
  const proxy = createEgressProxy({
    onDecision: (d) => decisions.push(d),
    resolve: async (host) => {
      if (host.endsWith(".test")) return [PUBLIC];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    },
    dial: (address, port) => {
      dialed.push(`${address}:${port}`);
      return net.connect({ host: "127.0.0.1", port: internetPort });
    },
  });
  proxies.push(proxy);
  const listener = await proxy.listenShared(
    { host: "127.0.0.1", port: 0 },
    {
      checkPassword: (sessionId, password) => secretsMatch(password, PASSWORDS[sessionId] ?? "\0none"),
      policyFor: async (sessionId) => {
        lookups.push(sessionId);
        return POLICIES[sessionId] ?? null;
      },
      ...overrides,
    },
  );
  const port = (listener.target as { port: number }).port;
  return { proxy, listener, port, decisions, lookups };
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** A plain-HTTP proxy request (absolute URI). */
function proxyGet(port: number, url: string, auth?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      path: url,
      agent: false,
      headers: { host: new URL(url).host, ...(auth ? { "proxy-authorization": auth } : {}) },
    });
    req.once("response", (res) => collect(res).then(resolve, reject));
    req.once("error", reject);
    req.end();
  });
}

/** CONNECT, then (when established) one GET through the tunnel. */
function proxyConnect(port: number, authority: string, auth?: string): Promise<Reply & { tunneled?: Reply }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      method: "CONNECT",
      path: authority,
      agent: false,
      headers: auth ? { "proxy-authorization": auth } : {},
    });
    req.once("connect", (res: http.IncomingMessage, socket: net.Socket) => {
      const head = { status: res.statusCode ?? 0, headers: res.headers };
      if (head.status !== 200) {
        const chunks: Buffer[] = [];
        socket.on("data", (c: Buffer) => chunks.push(c));
        socket.on("close", () => resolve({ ...head, body: Buffer.concat(chunks).toString() }));
        return;
      }
      const inner = http.request({ createConnection: () => socket, path: "/", headers: { host: authority } });
      inner.once("response", (r) =>
        collect(r).then((tunneled) => {
          socket.destroy();
          resolve({ ...head, body: "", tunneled });
        }, reject),
      );
      inner.once("error", reject);
      inner.end();
    });
    req.once("error", reject);
    req.end();
  });
}

describe("shared egress listener: authentication", () => {
  it.each([
    ["no credentials", undefined],
    ["a wrong password", basic("ses_a", "pw-b-secret")],
    ["a password of the right length but wrong", basic("ses_a", "pw-a-secreX")],
    ["an unknown session", basic("ses_nobody", "pw-a-secret")],
    ["a malformed header", "Basic !!!not-base64"],
    ["no colon", `Basic ${Buffer.from("ses_a").toString("base64")}`],
    ["another scheme", "Bearer pw-a-secret"],
  ])("refuses %s with 407 and forwards nothing (plain HTTP and CONNECT)", async (_name, auth) => {
    const { port, decisions, lookups } = await startShared();
    const plain = await proxyGet(port, `http://allowed.test:${internetPort}/`, auth);
    expect(plain.status).toBe(407);
    expect(plain.headers["proxy-authenticate"]).toBe('Basic realm="hangar"');
    expect(plain.headers["x-hangar-egress-reason"]).toBe("proxy_auth_required");
    const tunnel = await proxyConnect(port, `allowed.test:${internetPort}`, auth);
    expect(tunnel.status).toBe(407);
    expect(tunnel.headers["proxy-authenticate"]).toBe('Basic realm="hangar"');
    expect(tunnel.tunneled).toBeUndefined();
    expect(dialed).toEqual([]);
    expect(seen).toEqual([]);
    expect(decisions).toEqual([]);
    // A bad password never costs a database lookup.
    expect(lookups).toEqual([]);
  });

  it("checks every request on a kept-alive connection, not just the first", async () => {
    const { port } = await startShared();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (auth?: string) =>
      new Promise<Reply>((resolve, reject) => {
        const req = http.request({
          host: "127.0.0.1",
          port,
          agent,
          path: `http://allowed.test:${internetPort}/`,
          headers: { host: `allowed.test:${internetPort}`, ...(auth ? { "proxy-authorization": auth } : {}) },
        });
        req.once("response", (res) => collect(res).then(resolve, reject));
        req.once("error", reject);
        req.end();
      });
    expect((await get(basic("ses_a", "pw-a-secret"))).status).toBe(200);
    expect((await get()).status).toBe(407);
    agent.destroy();
  });
});

describe("shared egress listener: per-session policy", () => {
  it("with the right password, an allowed host is reached and the credentials are not passed on", async () => {
    const { port, decisions } = await startShared();
    const plain = await proxyGet(
      port,
      `http://allowed.test:${internetPort}/x`,
      basic("ses_a", "pw-a-secret"),
    );
    expect(plain).toMatchObject({ status: 200, body: `hello from allowed.test:${internetPort}` });
    const tunnel = await proxyConnect(port, `allowed.test:${internetPort}`, basic("ses_a", "pw-a-secret"));
    expect(tunnel.status).toBe(200);
    expect(tunnel.tunneled?.body).toBe(`hello from allowed.test:${internetPort}`);
    expect(seen.map((h) => h["proxy-authorization"])).toEqual([undefined, undefined]);
    expect(dialed).toEqual([`${PUBLIC}:${internetPort}`, `${PUBLIC}:${internetPort}`]);
    expect(decisions.map((d) => [d.sessionId, d.host, d.allowed])).toEqual([
      ["ses_a", "allowed.test", true],
      ["ses_a", "allowed.test", true],
    ]);
  });

  it("a host outside the session's allow list gets 403 and a denied decision for that session", async () => {
    const { port, decisions } = await startShared();
    const auth = basic("ses_a", "pw-a-secret");
    const plain = await proxyGet(port, `http://other.test:${internetPort}/`, auth);
    expect(plain.status).toBe(403);
    expect(plain.headers["x-hangar-egress"]).toBe("denied");
    const tunnel = await proxyConnect(port, `other.test:${internetPort}`, auth);
    expect(tunnel.status).toBe(403);
    expect(dialed).toEqual([]);
    expect(decisions).toHaveLength(2);
    for (const d of decisions) {
      expect(d).toMatchObject({
        sessionId: "ses_a",
        host: "other.test",
        allowed: false,
        reason: "not_in_allow_list",
      });
    }
  });

  it("sessions on one listener each get their own policy", async () => {
    const { port, decisions } = await startShared();
    const url = `http://allowed.test:${internetPort}/`;
    expect((await proxyGet(port, url, basic("ses_a", "pw-a-secret"))).status).toBe(200);
    expect((await proxyGet(port, url, basic("ses_b", "pw-b-secret"))).status).toBe(403);
    expect(decisions.map((d) => [d.sessionId, d.allowed])).toEqual([
      ["ses_a", true],
      ["ses_b", false],
    ]);
  });

  it("the private-address guard still applies: an allowed name pointing at loopback is refused", async () => {
    const { port, decisions } = await startShared({
      policyFor: async () => compileEgressPolicy({ allow: [], deny: [] }),
    });
    const reply = await proxyGet(port, `http://127.0.0.1:${internetPort}/`, basic("ses_a", "pw-a-secret"));
    expect(reply.status).toBe(403);
    expect(decisions[0]).toMatchObject({ sessionId: "ses_a", allowed: false });
    expect(dialed).toEqual([]);
  });

  it("a session that has ended gets 403 with no decision and no connection", async () => {
    const { port, decisions, lookups } = await startShared();
    const reply = await proxyGet(
      port,
      `http://allowed.test:${internetPort}/`,
      basic("ses_dead", "pw-dead-secret"),
    );
    expect(reply.status).toBe(403);
    expect(reply.headers["x-hangar-egress-reason"]).toBe("session_ended");
    const tunnel = await proxyConnect(
      port,
      `allowed.test:${internetPort}`,
      basic("ses_dead", "pw-dead-secret"),
    );
    expect(tunnel.status).toBe(403);
    expect(lookups).toEqual(["ses_dead", "ses_dead"]);
    expect(decisions).toEqual([]);
    expect(dialed).toEqual([]);
  });

  it("a failing session lookup answers 503 and logs no credentials", async () => {
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const { port } = await startShared({
        policyFor: async () => {
          throw new Error("database is down");
        },
      });
      const reply = await proxyGet(
        port,
        `http://allowed.test:${internetPort}/`,
        basic("ses_a", "pw-a-secret"),
      );
      expect(reply.status).toBe(503);
      expect(dialed).toEqual([]);
    } finally {
      spy.mockRestore();
    }
    expect(writes.join("")).toContain("egress session lookup failed");
    expect(writes.join("")).not.toContain("pw-a-secret");
    expect(writes.join("")).not.toContain(Buffer.from("ses_a:pw-a-secret").toString("base64"));
  });

  it("close (and closeAll) stop the listener", async () => {
    const { proxy, port } = await startShared();
    await proxy.closeAll();
    await expect(proxyGet(port, `http://allowed.test:${internetPort}/`)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("secretsMatch", () => {
  it("compares whole strings of any length", () => {
    expect(secretsMatch("abc", "abc")).toBe(true);
    expect(secretsMatch("abc", "abd")).toBe(false);
    expect(secretsMatch("abc", "abcd")).toBe(false);
    expect(secretsMatch("", "a")).toBe(false);
  });
});
