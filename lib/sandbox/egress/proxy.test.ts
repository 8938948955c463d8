import { once } from "node:events";
import fs from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { EGRESS_CASES, formatHostPort } from "@/e2e/support/egress-cases";
import { collect, type Reply } from "@/e2e/support/proxy-reply";

import { compileEgressPolicy, decideHost, normalizeHost, parseIpAddress } from "./policy";
import { createEgressProxy } from "./proxy";
import type { EgressDecision, EgressProxyOptions } from "./types";
import { toHttpStatus } from "./wire";

/*
 * Real sockets throughout: HTTP and TCP servers on 127.0.0.1 play the internet, the proxy listens on
 * Unix sockets in a temp dir, and the client is Node's http over that socket. Made-up names reach the
 * servers through a test resolver, and loopback is only reachable when allow_out names it, as for a user.
 */

type Hit = { url: string; headers: http.IncomingHttpHeaders };
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let dir: string;
let internet: http.Server;
let internetPort: number;
let echo: net.Server;
let echoPort: number;
const echoConnections = new Set<net.Socket>();
const hits: Hit[] = [];
let handle: Handler | null = null;
const proxies: ReturnType<typeof createEgressProxy>[] = [];
let sockets = 0;

const hello: Handler = (req, res) => {
  res.setHeader("Set-Cookie", ["a=1", "b=2"]);
  res.end(`hello from ${req.headers.host}`);
};

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-egress-"));
  internet = http.createServer((req, res) => {
    hits.push({ url: req.url ?? "", headers: req.headers });
    (handle ?? hello)(req, res);
  });
  internet.listen(0, "127.0.0.1");
  await once(internet, "listening");
  internetPort = (internet.address() as net.AddressInfo).port;
  echo = net.createServer((socket) => {
    echoConnections.add(socket);
    socket.on("close", () => echoConnections.delete(socket));
    socket.pipe(socket);
  });
  echo.listen(0, "127.0.0.1");
  await once(echo, "listening");
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.closeAll()));
  handle = null;
  hits.length = 0;
});

afterAll(async () => {
  internet.closeAllConnections();
  for (const socket of echoConnections) socket.destroy();
  await Promise.all([new Promise((r) => internet.close(r)), new Promise((r) => echo.close(r))]);
  await fs.rm(dir, { recursive: true, force: true });
});

function nameResolver(names: Record<string, string[]>) {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    const addresses = names[host];
    if (!addresses || addresses.length === 0) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    }
    return addresses;
  };
  return { resolve, calls };
}

function startProxy(options: Partial<EgressProxyOptions> = {}) {
  const decisions: EgressDecision[] = [];
  const proxy = createEgressProxy({ onDecision: (d) => decisions.push(d), ...options });
  proxies.push(proxy);
  return { proxy, decisions };
}

function nextSocketPath() {
  sockets += 1;
  return path.join(dir, `s${sockets}.sock`);
}

const policyOf = (allow: string[], deny: string[] = [], alwaysAllow: string[] = []) =>
  compileEgressPolicy({ allow, deny, alwaysAllow });

type ConnectReply = { status: number; headers: http.IncomingHttpHeaders; socket: net.Socket; head: Buffer };

function proxyConnect(socketPath: string, authority: string): Promise<ConnectReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: "CONNECT", path: authority, agent: false });
    req.once("connect", (res: http.IncomingMessage, socket: net.Socket, head: Buffer) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, socket, head }),
    );
    req.once("error", reject);
    req.end();
  });
}

async function readToEnd(socket: net.Socket, head: Buffer = Buffer.alloc(0)): Promise<string> {
  const chunks = [head];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  await once(socket, "end");
  return Buffer.concat(chunks).toString();
}

function getThroughTunnel(socket: net.Socket, authority: string, urlPath = "/"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ createConnection: () => socket, path: urlPath, headers: { host: authority } });
    req.once("response", (res) => collect(res).then(resolve, reject));
    req.once("error", reject);
    req.end();
  });
}

function proxyRequest(
  socketPath: string,
  url: string,
  init: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath,
      path: url,
      method: init.method ?? "GET",
      headers: init.headers,
      agent: false,
    });
    req.once("response", (res) => collect(res).then(resolve, reject));
    req.once("error", reject);
    req.end(init.body);
  });
}

async function openEchoTunnel(socketPath: string): Promise<net.Socket> {
  const reply = await proxyConnect(socketPath, `127.0.0.1:${echoPort}`);
  expect(reply.status).toBe(200);
  return reply.socket;
}

async function roundTrip(socket: net.Socket, text: string): Promise<string> {
  socket.write(text);
  const [chunk] = (await once(socket, "data")) as [Buffer];
  return chunk.toString();
}

const canonical = (host: string) => {
  const ip = parseIpAddress(normalizeHost(host));
  return ip ? `${ip.family}:${ip.value}` : normalizeHost(host);
};

describe.each(["CONNECT", "absolute-URI GET"])("egress cases through the proxy (%s)", (mode) => {
  it.each(EGRESS_CASES.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const { resolve, calls } = nameResolver({ [normalizeHost(c.host)]: c.resolvesTo });
    const dialed: string[] = [];
    // Stands in for the internet: every address that passed the guard leads to the test server.
    const dial = (address: string, port: number) => {
      dialed.push(`${canonical(address)} ${port}`);
      return net.connect({ host: "127.0.0.1", port: internetPort });
    };
    const { proxy, decisions } = startProxy({ resolve, dial });
    const policy = policyOf(c.allow, c.deny, c.alwaysAllow);
    const session = await proxy.listen(`ses_${mode}`, nextSocketPath(), policy);
    const authority = formatHostPort(c.host, c.port);

    let reply: Reply;
    if (mode === "CONNECT") {
      const connect = await proxyConnect(session.socketPath, authority);
      reply =
        connect.status === 200
          ? await getThroughTunnel(connect.socket, authority, "/through-tunnel")
          : {
              status: connect.status,
              headers: connect.headers,
              body: await readToEnd(connect.socket, connect.head),
            };
    } else {
      reply = await proxyRequest(session.socketPath, `http://${authority}/plain`);
    }

    expect(decisions).toHaveLength(1);
    const [decision] = decisions;
    expect(decision).toMatchObject({ sessionId: `ses_${mode}`, port: c.port, reason: c.reason });
    expect([decision?.allowed, decision?.rule]).toEqual([c.expect === "allowed", c.rule]);
    expect(canonical(decision?.host ?? "")).toBe(canonical(c.host));
    expect(decision?.at).toBeInstanceOf(Date);

    if (c.expect === "allowed") {
      expect(reply.status).toBe(200);
      expect(reply.body).toMatch(/^hello from /);
      const literal = parseIpAddress(normalizeHost(c.host)) ? c.host : undefined;
      expect(dialed).toEqual([`${canonical(c.connectsTo ?? literal ?? c.resolvesTo[0] ?? "")} ${c.port}`]);
    } else {
      expect(reply.status).toBe(toHttpStatus(c.reason));
      expect(reply.headers["x-hangar-egress-reason"]).toBe(c.reason);
      expect(reply.headers["x-hangar-egress"]).toBe(reply.status === 403 ? "denied" : "failed");
      expect(reply.body).toBe(`${decision?.message}\n`);
      expect(dialed).toEqual([]);
    }
    if (!decideHost(policy, c.host, c.port).allowed) expect(calls).toEqual([]);
  });
});

describe("egress proxy", () => {
  it("tunnels an allowed name to the real server and refuses the rest with a reason", async () => {
    const { resolve } = nameResolver({ "allowed.test": ["127.0.0.1"], "denied.test": ["127.0.0.1"] });
    const { proxy, decisions } = startProxy({ resolve });
    const session = await proxy.listen("ses_a", nextSocketPath(), policyOf(["allowed.test"]));

    const ok = await proxyConnect(session.socketPath, `allowed.test:${internetPort}`);
    expect(ok.status).toBe(200);
    const reply = await getThroughTunnel(ok.socket, `allowed.test:${internetPort}`);
    expect(reply.body).toBe(`hello from allowed.test:${internetPort}`);

    const denied = await proxyConnect(session.socketPath, `denied.test:${internetPort}`);
    expect(denied.status).toBe(403);
    expect(denied.headers["x-hangar-egress"]).toBe("denied");
    expect(denied.headers["x-hangar-egress-reason"]).toBe("not_in_allow_list");
    expect(await readToEnd(denied.socket, denied.head)).toBe("denied.test is not in allow_out\n");

    expect(decisions.map((d) => [d.host, d.allowed, d.reason, d.address])).toEqual([
      ["allowed.test", true, "allowed_by_rule", "127.0.0.1"],
      ["denied.test", false, "not_in_allow_list", undefined],
    ]);
    expect(hits).toHaveLength(1);
  });

  it("refuses wildcard names that resolve to loopback, metadata or private space, until named exactly", async () => {
    const { resolve } = nameResolver({
      "loop.test": ["127.0.0.1"],
      "meta.test": ["169.254.169.254"],
      "priv.test": ["10.0.0.1"],
    });
    const dial = (address: string, port: number) => {
      throw new Error(`must not dial ${address}:${port}`);
    };
    const { proxy } = startProxy({ resolve, dial });
    const session = await proxy.listen("ses_guard", nextSocketPath(), policyOf(["*.test"]));
    const expected = {
      "loop.test": "resolves to 127.0.0.1, a loopback address; name it in allow_out to permit it",
      "meta.test":
        "resolves to 169.254.169.254, a link-local address (cloud metadata); name it in allow_out to permit it",
      "priv.test": "resolves to 10.0.0.1, a private address; name it in allow_out to permit it",
    };
    for (const [host, message] of Object.entries(expected)) {
      const reply = await proxyConnect(session.socketPath, `${host}:${internetPort}`);
      expect(reply.status).toBe(403);
      expect(reply.headers["x-hangar-egress-reason"]).toBe("private_address");
      expect(await readToEnd(reply.socket, reply.head)).toBe(`${message}\n`);
    }

    const { proxy: real } = startProxy({ resolve });
    const named = await real.listen("ses_named", nextSocketPath(), policyOf(["*.test", "loop.test"]));
    const reply = await proxyConnect(named.socketPath, `loop.test:${internetPort}`);
    expect(reply.status).toBe(200);
    expect((await getThroughTunnel(reply.socket, "loop.test")).body).toBe("hello from loop.test");
  });

  it("refuses this host's own interface address unless it is named", async () => {
    const own = Object.values(os.networkInterfaces())
      .flatMap((infos) => infos ?? [])
      .find((info) => !info.internal && info.family === "IPv4")?.address;
    const { resolve } = nameResolver({ "own.test": ["198.51.100.77"] });
    const { proxy } = startProxy({ resolve, listHostAddresses: () => ["198.51.100.77"] });
    const injected = await proxy.listen("ses_own", nextSocketPath(), policyOf(["*.test"]));
    const refused = await proxyConnect(injected.socketPath, "own.test:443");
    expect(refused.status).toBe(403);
    expect(await readToEnd(refused.socket, refused.head)).toBe(
      "resolves to 198.51.100.77, an address of this host; name it in allow_out to permit it\n",
    );
    if (!own) return;

    const server = net.createServer((socket) => socket.end("own server\n"));
    server.listen(0, own);
    await once(server, "listening");
    try {
      const port = (server.address() as net.AddressInfo).port;
      const { proxy: real } = startProxy();
      const open = await real.listen("ses_own_real", nextSocketPath(), policyOf([]));
      const reply = await proxyConnect(open.socketPath, `${own}:${port}`);
      expect(reply.status).toBe(403);
      expect(reply.headers["x-hangar-egress-reason"]).toBe("private_address");
      await readToEnd(reply.socket, reply.head);
      open.updatePolicy(policyOf([own]));
      const named = await proxyConnect(open.socketPath, `${own}:${port}`);
      expect(named.status).toBe(200);
      expect(await readToEnd(named.socket, named.head)).toBe("own server\n");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("answers 502 dns_failed when the name does not resolve", async () => {
    const { resolve } = nameResolver({});
    const { proxy, decisions } = startProxy({ resolve });
    const session = await proxy.listen("ses_dns", nextSocketPath(), policyOf([]));
    const connect = await proxyConnect(session.socketPath, "nowhere.test:443");
    expect(connect.status).toBe(502);
    expect(connect.headers["x-hangar-egress-reason"]).toBe("dns_failed");
    expect(await readToEnd(connect.socket, connect.head)).toBe(
      "could not resolve nowhere.test (ENOTFOUND)\n",
    );
    const plain = await proxyRequest(session.socketPath, "http://nowhere.test/");
    expect([plain.status, plain.headers["x-hangar-egress-reason"]]).toEqual([502, "dns_failed"]);
    expect(decisions.map((d) => [d.allowed, d.reason])).toEqual([
      [false, "dns_failed"],
      [false, "dns_failed"],
    ]);
  });

  it("answers 502 when the connection is refused and 504 when it times out", async () => {
    const closed = net.createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));

    const { proxy } = startProxy();
    const session = await proxy.listen("ses_fail", nextSocketPath(), policyOf(["127.0.0.1"]));
    const refused = await proxyConnect(session.socketPath, `127.0.0.1:${closedPort}`);
    expect([refused.status, refused.headers["x-hangar-egress-reason"]]).toEqual([502, "connect_failed"]);

    // A socket that never connects is how a black-holed SYN looks to the proxy.
    const { proxy: slow } = startProxy({ connectTimeoutMs: 100, dial: () => new net.Socket() });
    const stuck = await slow.listen("ses_slow", nextSocketPath(), policyOf(["127.0.0.1"]));
    const started = Date.now();
    const timedOut = await proxyConnect(stuck.socketPath, `127.0.0.1:${internetPort}`);
    expect([timedOut.status, timedOut.headers["x-hangar-egress-reason"]]).toEqual([504, "connect_timeout"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    const plain = await proxyRequest(stuck.socketPath, `http://127.0.0.1:${internetPort}/`);
    expect(plain.status).toBe(504);
  });

  it("falls back to the next permitted address when the first refuses", async () => {
    const { resolve } = nameResolver({ "multi.test": ["127.0.0.2", "127.0.0.1"] });
    const { proxy } = startProxy({ resolve });
    const session = await proxy.listen("ses_multi", nextSocketPath(), policyOf(["multi.test"]));
    const reply = await proxyConnect(session.socketPath, `multi.test:${internetPort}`);
    expect(reply.status).toBe(200);
    expect((await getThroughTunnel(reply.socket, "multi.test")).body).toBe("hello from multi.test");
  });

  it("passes bytes the client sent along with the CONNECT", async () => {
    const { proxy } = startProxy();
    const session = await proxy.listen("ses_head", nextSocketPath(), policyOf(["127.0.0.1"]));
    const client = net.connect(session.socketPath);
    client.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\nearly bytes`);
    let received = "";
    client.on("data", (chunk: Buffer) => (received += chunk.toString()));
    await expect.poll(() => received).toContain("early bytes");
    expect(received).toBe("HTTP/1.1 200 Connection Established\r\n\r\nearly bytes");
    client.destroy();
  });

  it("forwards plain HTTP: streams both bodies, strips hop-by-hop headers, sets Host from the URL", async () => {
    const { resolve } = nameResolver({ "allowed.test": ["127.0.0.1"] });
    const { proxy, decisions } = startProxy({ resolve });
    const session = await proxy.listen("ses_http", nextSocketPath(), policyOf(["allowed.test"]));
    let releaseResponse = () => {};
    const firstChunkArrived = new Promise<void>((r) => (releaseResponse = r));
    let seenRequestChunk = () => {};
    const requestChunkSeen = new Promise<void>((r) => (seenRequestChunk = r));
    handle = (req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString();
        seenRequestChunk();
      });
      req.on("end", () => {
        res.writeHead(201, {
          "Set-Cookie": ["a=1", "b=2"],
          "X-Upstream": "yes",
          "Proxy-Authenticate": "Basic",
          Connection: "X-Upstream-Hop",
          "X-Upstream-Hop": "1",
        });
        res.write(`got ${body};`);
        // The rest waits for the client to have the first part: a buffering proxy would deadlock here.
        void firstChunkArrived.then(() => res.end("done"));
      });
    };

    const reply = await new Promise<Reply & { first: string }>((resolve, reject) => {
      const req = http.request({
        socketPath: session.socketPath,
        method: "POST",
        path: `http://allowed.test:${internetPort}/upload?x=1`,
        agent: false,
        headers: {
          Host: "evil.test",
          "Proxy-Authorization": "Basic c2VjcmV0",
          Connection: "keep-alive, X-Private",
          "X-Private": "hop",
          "X-Kept": "end-to-end",
        },
      });
      req.write("part one,");
      // The second half goes only after the server has the first: the request body is streamed too.
      void requestChunkSeen.then(() => req.end("part two"));
      req.once("response", (res) => {
        let first = "";
        const chunks: string[] = [];
        res.on("data", (chunk: Buffer) => {
          if (first === "") {
            first = chunk.toString();
            releaseResponse();
          }
          chunks.push(chunk.toString());
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: chunks.join(""), first }),
        );
      });
      req.once("error", reject);
    });

    expect(reply.status).toBe(201);
    expect(reply.first).toBe("got part one,part two;");
    expect(reply.body).toBe("got part one,part two;done");
    expect(reply.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(reply.headers["x-upstream"]).toBe("yes");
    expect(reply.headers["proxy-authenticate"]).toBeUndefined();
    expect(reply.headers["x-upstream-hop"]).toBeUndefined();
    const [hit] = hits;
    expect(hit?.url).toBe("/upload?x=1");
    expect(hit?.headers.host).toBe(`allowed.test:${internetPort}`);
    expect(hit?.headers["x-kept"]).toBe("end-to-end");
    expect(hit?.headers["proxy-authorization"]).toBeUndefined();
    expect(hit?.headers["x-private"]).toBeUndefined();
    expect(decisions.map((d) => [d.host, d.port, d.reason])).toEqual([
      ["allowed.test", internetPort, "allowed_by_rule"],
    ]);
  });

  it("answers 400 to anything that is not CONNECT or an absolute http:// URI", async () => {
    const { proxy, decisions } = startProxy();
    const session = await proxy.listen("ses_400", nextSocketPath(), policyOf([]));
    for (const url of ["/", "https://example.test/", "*"]) {
      const reply = await proxyRequest(session.socketPath, url, { method: url === "*" ? "OPTIONS" : "GET" });
      expect([url, reply.status, reply.headers["x-hangar-egress-reason"]]).toEqual([url, 400, "bad_request"]);
    }
    const upgrade = await proxyRequest(session.socketPath, `http://127.0.0.1:${internetPort}/`, {
      headers: { Connection: "Upgrade", Upgrade: "websocket" },
    }).catch((err: Error) => err);
    expect(upgrade).toMatchObject({ status: 400 });
    const badTarget = await proxyConnect(session.socketPath, "no-port.test");
    expect(badTarget.status).toBe(400);
    expect(decisions).toEqual([]);
  });

  it("reports one decision per request", async () => {
    const { resolve } = nameResolver({ "a.test": ["127.0.0.1"] });
    const { proxy, decisions } = startProxy({ resolve });
    const session = await proxy.listen("ses_count", nextSocketPath(), policyOf(["a.test"], ["*.evil.test"]));
    const targets = [`a.test:${internetPort}`, "x.evil.test:443", "b.test:443", `a.test:${internetPort}`];
    for (const target of targets) {
      const reply = await proxyConnect(session.socketPath, target);
      reply.socket.destroy();
    }
    await proxyRequest(session.socketPath, `http://a.test:${internetPort}/`);
    expect(decisions.map((d) => `${d.sessionId} ${d.host}:${d.port} ${d.reason}`)).toEqual([
      `ses_count a.test:${internetPort} allowed_by_rule`,
      "ses_count x.evil.test:443 denied_by_rule",
      "ses_count b.test:443 not_in_allow_list",
      `ses_count a.test:${internetPort} allowed_by_rule`,
      `ses_count a.test:${internetPort} allowed_by_rule`,
    ]);
  });

  it("serves two sessions with different policies on two sockets at once", async () => {
    const { resolve } = nameResolver({ "a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"] });
    const { proxy, decisions } = startProxy({ resolve });
    const [sa, sb] = await Promise.all([
      proxy.listen("ses_a", nextSocketPath(), policyOf(["a.test"])),
      proxy.listen("ses_b", nextSocketPath(), policyOf(["b.test"])),
    ]);
    const attempt = async (socketPath: string, host: string) => {
      const reply = await proxyConnect(socketPath, `${host}:${internetPort}`);
      if (reply.status !== 200) return `${reply.status}`;
      return (await getThroughTunnel(reply.socket, host)).body;
    };
    const results = await Promise.all([
      attempt(sa.socketPath, "a.test"),
      attempt(sa.socketPath, "b.test"),
      attempt(sb.socketPath, "b.test"),
      attempt(sb.socketPath, "a.test"),
    ]);
    expect(results).toEqual(["hello from a.test", "403", "hello from b.test", "403"]);
    const bySession = (id: string) =>
      decisions
        .filter((d) => d.sessionId === id)
        .map((d) => `${d.host} ${d.allowed}`)
        .sort();
    expect(bySession("ses_a")).toEqual(["a.test true", "b.test false"]);
    expect(bySession("ses_b")).toEqual(["a.test false", "b.test true"]);
  });

  it("applies updatePolicy to new connections and leaves open tunnels alone", async () => {
    const { proxy } = startProxy();
    const session = await proxy.listen("ses_update", nextSocketPath(), policyOf(["127.0.0.1"]));
    const tunnel = await openEchoTunnel(session.socketPath);
    session.updatePolicy(policyOf([], ["127.0.0.1"]));
    const refused = await proxyConnect(session.socketPath, `127.0.0.1:${echoPort}`);
    expect([refused.status, refused.headers["x-hangar-egress-reason"]]).toEqual([403, "denied_by_rule"]);
    expect(await roundTrip(tunnel, "still open")).toBe("still open");
    tunnel.destroy();
  });

  it("closes a session's sockets, upstream included, and removes its socket file", async () => {
    const { proxy } = startProxy();
    const one = await proxy.listen("ses_one", nextSocketPath(), policyOf(["127.0.0.1"]));
    const two = await proxy.listen("ses_two", nextSocketPath(), policyOf(["127.0.0.1"]));
    const [t1, t2] = await Promise.all([openEchoTunnel(one.socketPath), openEchoTunnel(two.socketPath)]);
    expect(await roundTrip(t1, "ping")).toBe("ping");
    expect(echoConnections.size).toBe(2);

    const t1Closed = once(t1, "close");
    await one.close();
    await t1Closed;
    await expect.poll(() => echoConnections.size).toBe(1);
    await expect(fs.stat(one.socketPath)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await roundTrip(t2, "pong")).toBe("pong");

    const t2Closed = once(t2, "close");
    await proxy.closeAll();
    await t2Closed;
    await expect.poll(() => echoConnections.size).toBe(0);
    await expect(proxyConnect(two.socketPath, `127.0.0.1:${echoPort}`)).rejects.toMatchObject({
      code: "ENOENT",
    });
  });

  it("listens on a 0600 socket, replaces a stale socket file, and is idempotent per session", async () => {
    const socketPath = nextSocketPath();
    // A crashed process leaves its socket file behind with nobody listening; a hard link survives the
    // clean close that would otherwise remove it.
    const stale = net.createServer();
    stale.listen(`${socketPath}.orig`);
    await once(stale, "listening");
    await fs.link(`${socketPath}.orig`, socketPath);
    await new Promise((resolve) => stale.close(resolve));
    expect((await fs.lstat(socketPath)).isSocket()).toBe(true);
    await fs.writeFile(`${socketPath}.not-a-socket`, "x");

    const { proxy } = startProxy();
    const first = await proxy.listen("ses_mode", socketPath, policyOf([]));
    expect((await fs.stat(socketPath)).mode & 0o777).toBe(0o600);
    const again = await proxy.listen("ses_mode", socketPath, policyOf([], ["127.0.0.1"]));
    expect(again).toBe(first);
    await expect(proxy.listen("ses_mode", nextSocketPath(), policyOf([]))).rejects.toThrow(/already listens/);
    await expect(proxy.listen("ses_other", `${socketPath}.not-a-socket`, policyOf([]))).rejects.toThrow(
      /not a socket/,
    );
  });
});
