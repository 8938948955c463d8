import { createHash } from "node:crypto";
import http from "node:http";
import net, { type AddressInfo } from "node:net";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { MODEL_UPSTREAM_IN_FLIGHT_PER_SESSION } from "@/lib/bounds";

import { listenSharedModelEndpoint } from "./endpoint";
import { sharedEndpointNames } from "./paths";

/*
 * The gateway role's shared model endpoint, as a sandbox pod would talk to it over TCP, in front of
 * a fake "LiteLLM" upstream (a fake at the unreachable edge: no real gateway runs here) that records
 * every request, and a canary server on another loopback port that no request may ever reach. The
 * session lookup is a stub (the database's part is e2e/api/gateway-role.test.ts); the per-session
 * endpoint is attacked from inside a real sandbox in e2e/security/model-endpoint.test.ts.
 */

const TOKEN = "hst_shared-session-token";
const PLATFORM_KEY = `sk-platform-canary-${crypto.randomUUID()}`;
const GATEWAY_HOST = "hangar-gateway.hangar.svc.cluster.local";

type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders };

let upstream: http.Server;
let canary: http.Server;
let endpoint: Awaited<ReturnType<typeof listenSharedModelEndpoint>>;
let port = 0;
let canaryPort = 0;
const seen: Seen[] = [];
const canaryHits: string[] = [];
/** Set by a test to hold upstream answers open (concurrency). */
let hold: Promise<void> | null = null;

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", async () => {
      if (hold) await hold;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ upstream: true, path: req.url }));
    });
  });
  canary = http.createServer((req, res) => {
    canaryHits.push(`${req.method} ${req.url}`);
    res.end("canary");
  });
  const upstreamPort = await listen(upstream);
  canaryPort = await listen(canary);
  endpoint = await listenSharedModelEndpoint(
    { host: "127.0.0.1", port: 0 },
    {
      findSession: async (hash) =>
        hash === createHash("sha256").update(TOKEN).digest("hex") ? "ses_shared" : null,
      ownNames: sharedEndpointNames(GATEWAY_HOST),
      upstream: { base: `http://127.0.0.1:${upstreamPort}/litellm`, key: PLATFORM_KEY },
    },
  );
  port = (endpoint.target as { port: number }).port;
});

afterAll(async () => {
  await endpoint?.close();
  upstream?.closeAllConnections();
  canary?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
  await new Promise((r) => canary?.close(r));
});

beforeEach(() => {
  seen.length = 0;
  canaryHits.length = 0;
});

/** Sends one raw request (target and Host as given) and reads the answer to the end. */
function raw(
  method: string,
  target: string,
  host = `${GATEWAY_HOST}:4000`,
  extra = "",
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve({ status: Number(text.split(" ")[1]), text }));
    socket.write(
      `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `Connection: close\r\nContent-Length: 2\r\n${extra}\r\n{}`,
    );
  });
}

describe("the shared model endpoint (gateway role) refuses what is not a model API", () => {
  it.each([
    ["GET", `//127.0.0.1:CANARY/../../x`, 400],
    ["GET", `http://127.0.0.1:CANARY/x`, 400],
    ["GET", `127.0.0.1:CANARY`, 400],
    ["POST", "/v1/%2e%2e/%2e%2e/key/generate", 400],
    ["POST", "/v1/%2E%2E/key/generate", 400],
    ["POST", "/v1%2f..%2fkey/generate", 400],
    ["GET", "/v1/models%5c..%5ckey", 400],
    ["GET", "/v1/%252e%252e/key", 400],
    ["GET", "/v1/models/%00", 400],
    ["GET", "/v1/models\\..\\key", 400],
    ["GET", "/v1/models/\u0001", 400],
    ["POST", "/v1/../key/generate", 400],
    ["POST", "/mcp/../key", 400],
    ["POST", "/key/generate", 404],
    ["GET", "/health", 404],
    ["GET", "/v1/mcp/server", 404],
    ["GET", "/v1/chat/completions", 405],
  ])("%s %s → %i, and nothing is forwarded", async (method, target, status) => {
    const res = await raw(method, target.replace("CANARY", String(canaryPort)));
    expect(res.status, res.text).toBe(status);
    expect(res.text).toMatch(/"type":"hangar_model_endpoint"/);
    expect(res.text).not.toContain("canary");
    expect(canaryHits).toEqual([]);
    expect(seen).toEqual([]);
  });

  it("refuses a Host that is not its own with 400", async () => {
    for (const host of [`evil.example:${canaryPort}`, "litellm", ""]) {
      const res = await raw("POST", "/v1/chat/completions", host);
      expect(res.status, host).toBe(400);
      expect(res.text).toContain("the Host header does not name this model endpoint");
    }
    expect(seen).toEqual([]);
  });

  it("forwards a model call under the base, with the platform key and not the session token", async () => {
    for (const host of [GATEWAY_HOST, "hangar-gateway:4000", "hangar-gateway.hangar", `127.0.0.1:${port}`]) {
      const res = await raw("POST", "/v1/messages?beta=true", host);
      expect(res.status, `${host}\n${res.text}`).toBe(200);
    }
    expect(seen.map((s) => s.url)).toEqual(Array(4).fill("/litellm/v1/messages?beta=true"));
    for (const { headers } of seen) {
      expect(headers.authorization).toBe(`Bearer ${PLATFORM_KEY}`);
      expect(JSON.stringify(headers)).not.toContain(TOKEN);
    }
    expect(canaryHits).toEqual([]);
  });

  it("answers 429 past the session's requests in flight, and 413 for a body over the cap", async () => {
    let open!: () => void;
    hold = new Promise((resolve) => (open = resolve));
    const held = Array.from({ length: MODEL_UPSTREAM_IN_FLIGHT_PER_SESSION }, () =>
      raw("POST", "/v1/chat/completions"),
    );
    while (seen.length < MODEL_UPSTREAM_IN_FLIGHT_PER_SESSION) await new Promise((r) => setTimeout(r, 10));
    const over = await raw("POST", "/v1/chat/completions");
    expect(over.status).toBe(429);
    expect(over.text.toLowerCase()).toContain("retry-after: 1");
    open();
    hold = null;
    expect((await Promise.all(held)).map((r) => r.status)).toEqual(
      Array(MODEL_UPSTREAM_IN_FLIGHT_PER_SESSION).fill(200),
    );
    expect((await raw("POST", "/v1/chat/completions")).status).toBe(200);

    const big = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1");
      let text = "";
      socket.on("data", (chunk) => (text += chunk.toString("latin1")));
      socket.on("error", reject);
      socket.on("close", () => resolve({ status: Number(text.split(" ")[1]), text }));
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: ${GATEWAY_HOST}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
          `Content-Length: ${64 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n`,
      );
    });
    expect(big.status).toBe(413);
    expect(big.text).not.toContain("100 Continue");
  });
});
