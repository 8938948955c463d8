/*
 * The gateway role against real parts: a Hangar web server and a Hangar gateway-role process share one
 * fresh PostgreSQL database (and one encryption key, as a deployment does). A session is created
 * through the REST API on the web server; the test then plays that session's sandbox pod and talks to
 * the gateway the way a pod on Kubernetes would, over TCP, with the session's credentials.
 *
 * Where the credentials come from: the model token is read out of the running sandbox's environment
 * (LITELLM_API_KEY, from its boot spec); the egress password is derived from the shared encryption key
 * exactly as the Kubernetes driver derives it for the pod's HTTPS_PROXY.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { SecretBox } from "@/lib/secret-box";

import { callServer } from "../support/api";
import { readySession, sandboxModelEnv, SESSIONS } from "../support/sandbox";
import {
  createTestDatabase,
  startGateway,
  startServer,
  type TestGateway,
  type TestServer,
} from "../support/server";

const ENCRYPTION_KEY = randomBytes(32).toString("hex");
const HOSTS = "allowed.test=127.0.0.1,denied.test=127.0.0.1";

let hangar: TestServer;
let gateway: TestGateway;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let web: http.Server;
let webPort = 0;

const call = (method: string, p: string, body?: unknown) => callServer(hangar, method, p, body);

/** The password the Kubernetes driver puts in a pod's proxy URL (see lib/sessions/harness-secrets). */
function egressPassword(sessionId: string) {
  return new SecretBox(Buffer.from(ENCRYPTION_KEY, "hex")).derive(`egress-password:${sessionId}`);
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

type Reply = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** A plain-HTTP request through the gateway's egress proxy, as curl -x would send it. */
function viaProxy(url: string, auth?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port: gateway.egressPort,
      path: url,
      agent: false,
      headers: { host: new URL(url).host, ...(auth ? { "proxy-authorization": auth } : {}) },
    });
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.once("error", reject);
    req.end();
  });
}

/** CONNECT through the gateway; resolves with the status line's code (the tunnel is closed at once). */
function connectStatus(authority: string, auth?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port: gateway.egressPort,
      method: "CONNECT",
      path: authority,
      agent: false,
      headers: auth ? { "proxy-authorization": auth } : {},
    });
    req.once("connect", (res: http.IncomingMessage, socket: Socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.once("error", reject);
    req.end();
  });
}

function model(pathname: string, headers: Record<string, string>) {
  return fetch(`http://127.0.0.1:${gateway.modelPort}${pathname}`, { headers });
}

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const postgresOnly = inject("dbChoice") === "postgres";

describe.skipIf(!postgresOnly)(
  "gateway role: a web and a gateway process on one PostgreSQL (skipped on PGlite: an embedded database cannot be shared between two processes)",
  () => {
    beforeAll(async () => {
      web = http.createServer((req, res) => res.end(`web says hi to ${req.headers.host}`));
      await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
      webPort = (web.address() as AddressInfo).port;
      database = await createTestDatabase();
      const env = { HANGAR_ENCRYPTION_KEY: ENCRYPTION_KEY, HANGAR_TEST_HOSTS: HOSTS };
      // One after the other: each process migrates the database when it starts.
      hangar = await startServer({ databaseUrl: database.url, env });
      gateway = await startGateway({ databaseUrl: database.url, env });
    }, 180_000);

    afterAll(async () => {
      await gateway?.stop();
      await hangar?.stop();
      await database?.drop();
      web?.close();
    });

    it("egress: credentials required; the session's allow/deny applies; denials are session events; a stopped session is refused", async () => {
      const s = {
        id: await readySession(hangar, { allow_out: ["allowed.test"], deny_out: ["denied.test"] }),
      };
      const password = egressPassword(s.id);
      const auth = basic(s.id, password);
      const allowedUrl = `http://allowed.test:${webPort}/`;

      // No credentials, or a wrong password: 407 with a Basic challenge, and nothing forwarded.
      const anonymous = await viaProxy(allowedUrl);
      expect(anonymous.status).toBe(407);
      expect(anonymous.headers["proxy-authenticate"]).toBe('Basic realm="hangar"');
      expect(await connectStatus(`allowed.test:${webPort}`)).toBe(407);
      expect((await viaProxy(allowedUrl, basic(s.id, egressPassword("ses_other")))).status).toBe(407);
      expect(await connectStatus(`allowed.test:${webPort}`, basic(s.id, "wrong"))).toBe(407);

      // The right password: the allowed host is reached, the denied one gets 403 and becomes an event.
      const allowed = await viaProxy(allowedUrl, auth);
      expect(allowed).toMatchObject({ status: 200, body: `web says hi to allowed.test:${webPort}` });
      expect(await connectStatus(`allowed.test:${webPort}`, auth)).toBe(200);
      const denied = await viaProxy(`http://denied.test:${webPort}/`, auth);
      expect(denied.status).toBe(403);
      expect(denied.headers["x-hangar-egress"]).toBe("denied");
      expect(await connectStatus(`denied.test:${webPort}`, auth)).toBe(403);
      const events = await eventually(
        () => call("GET", `${SESSIONS}/${s.id}/log`),
        (r) => r.body.data.filter((e: { type: string }) => e.type === "egress_denied").length >= 2,
      );
      const deniedEvents = events.body.data.filter((e: { type: string }) => e.type === "egress_denied");
      expect(deniedEvents.map((e: { data: unknown }) => e.data)).toEqual([
        expect.objectContaining({ host: "denied.test", port: webPort }),
        expect.objectContaining({ host: "denied.test", port: webPort }),
      ]);

      // Stopped: the same credentials are refused (within the gateway's short policy cache).
      expect((await call("DELETE", `${SESSIONS}/${s.id}`)).body.status).toBe("dead");
      const after = await eventually(
        () => viaProxy(allowedUrl, auth),
        (r) => r.status === 403,
      );
      expect(after.status).toBe(403);
      expect(after.headers["x-hangar-egress-reason"]).toBe("session_ended");
      expect(await connectStatus(`allowed.test:${webPort}`, auth)).toBe(403);

      // The credentials never reach a log line.
      const logs = fs.readFileSync(gateway.logFile, "utf8") + fs.readFileSync(hangar.logFile, "utf8");
      expect(logs).not.toContain(password);
      expect(logs).not.toContain(auth.slice("Basic ".length));
    }, 120_000);

    it("model endpoint: answers with the session's own token, refuses unknown ones and ended sessions' with 401", async () => {
      const s = { id: await readySession(hangar) };
      const { token } = await sandboxModelEnv(hangar, s.id);

      const listed = await model("/v1/models", { authorization: `Bearer ${token}` });
      expect(listed.status).toBe(200);
      expect((await listed.json()).data).toEqual(expect.any(Array));
      expect((await model("/v1/models", { "x-api-key": token })).status).toBe(200);

      const attempts: Record<string, string>[] = [
        {},
        { authorization: "Bearer hst_unknown-token" },
        { "x-api-key": `${token}x` },
        { authorization: `Bearer ${hangar.masterKey}` },
      ];
      for (const headers of attempts) {
        const refused = await model("/v1/models", headers);
        expect(refused.status, JSON.stringify(headers)).toBe(401);
        expect(await refused.json()).toMatchObject({ error: { message: "invalid session token" } });
      }

      expect((await call("DELETE", `${SESSIONS}/${s.id}`)).body.status).toBe("dead");
      expect((await model("/v1/models", { authorization: `Bearer ${token}` })).status).toBe(401);
    }, 120_000);

    it("the gateway serves no pages or API, and stops cleanly on SIGTERM", async () => {
      const page = await model("/api/v1/health", {});
      expect(page.status).toBe(401);
      const other = await startGateway({
        databaseUrl: database.url,
        env: { HANGAR_ENCRYPTION_KEY: ENCRYPTION_KEY },
      });
      expect(await other.stop("SIGTERM")).toBe(0);
      expect(fs.readFileSync(other.logFile, "utf8")).toContain('"msg":"stopping","signal":"SIGTERM"');
      await expect(fetch(`http://127.0.0.1:${other.modelPort}/v1/models`)).rejects.toThrow();
      // The first gateway is unaffected.
      expect(await connectStatus("x.test:1")).toBe(407);
    }, 60_000);
  },
);
