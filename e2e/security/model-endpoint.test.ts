/*
 * The per-session model endpoint, attacked from inside a real sandbox. The sandbox holds
 * LITELLM_API_BASE (its loopback bridge to the host's endpoint) and its session token, and tries to
 * make the host carry the platform's key somewhere else or reach another API of the gateway: `//`
 * hosts, absolute- and authority-form request lines, dot-segments raw and percent-encoded,
 * backslashes, a foreign Host, LiteLLM's management routes.
 *
 * Upstream is a fake "LiteLLM" on loopback (a fake at the unreachable edge: no real gateway runs
 * here) that records every request; a canary server on another loopback port records any hit. Each
 * attack must be answered 400/404 by Hangar, the canary must see nothing, and the fake gateway only
 * allowed model paths. A real model call still reaches it, with the platform key and not the token.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { callServer } from "../support/api";
import { inSandbox, readySession, sandboxModelEnv, SESSIONS } from "../support/sandbox";
import { startServer, type TestServer } from "../support/server";

const PLATFORM_KEY = `sk-platform-canary-${crypto.randomUUID()}`;

type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders };

let hangar: TestServer;
let upstream: http.Server;
let canary: http.Server;
let canaryPort = 0;
const upstreamSeen: Seen[] = [];
const canaryHits: string[] = [];

const call = (method: string, p: string, body?: unknown) => callServer(hangar, method, p, body);

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const inside = (sessionId: string, script: string) => inSandbox(hangar, sessionId, script);

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    upstreamSeen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "chatcmpl-fake",
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: "fake-upstream-reply" } }],
        }),
      );
    });
  });
  canary = http.createServer((req, res) => {
    canaryHits.push(`${req.method} ${req.url} host=${req.headers.host}`);
    res.end("CANARY-REACHED");
  });
  const upstreamPort = await listen(upstream);
  canaryPort = await listen(canary);
  hangar = await startServer({
    env: { LITELLM_API_BASE: `http://127.0.0.1:${upstreamPort}`, LITELLM_API_KEY: PLATFORM_KEY },
  });
}, 120_000);

afterAll(async () => {
  await hangar?.stop();
  upstream?.closeAllConnections();
  canary?.closeAllConnections();
  upstream?.close();
  canary?.close();
});

/** The paths a model call may reach the gateway on (model-paths.ts). */
const ALLOWED =
  /^\/(?:v1\/)?(?:chat\/completions|responses|messages(?:\/count_tokens)?|models(?:\/[^/?]+)?|embeddings)(?:\?|$)|^\/mcp\/[^/?]+\/?(?:\?|$)/;

describe("the per-session model endpoint, attacked from inside the sandbox (fake LiteLLM upstream)", () => {
  it("forwards no request that is not a model API, carries the platform key nowhere else, and still serves model calls", async () => {
    const sessionId = await readySession(hangar);
    const { base, token } = await sandboxModelEnv(hangar, sessionId);
    const hangarPort = new URL(hangar.url).port;
    const c = String(canaryPort);

    // label | expected status | curl arguments (after the common ones)
    const attacks: [string, number, string][] = [
      ["double slash to the canary", 400, `"${base}//127.0.0.1:${c}/../../x"`],
      ["double slash to Hangar's health", 400, `"${base}//127.0.0.1:${hangarPort}/api/v1/health"`],
      ["absolute-form to the canary", 400, `--request-target "http://127.0.0.1:${c}/x" "${base}/"`],
      [
        "absolute-form to Hangar's health",
        400,
        `--request-target "http://127.0.0.1:${hangarPort}/api/v1/health" "${base}/"`,
      ],
      ["authority-form", 400, `--request-target "127.0.0.1:${c}" "${base}/"`],
      ["encoded dots", 400, `-X POST "${base}/v1/%2e%2e/%2e%2e/key/generate"`],
      ["encoded dots, upper case", 400, `-X POST "${base}/v1/%2E%2E/key/generate"`],
      ["encoded slash", 400, `-X POST "${base}/v1%2f..%2fkey/generate"`],
      ["encoded backslash", 400, `"${base}/v1/models%5c..%5c..%5ckey%5cinfo"`],
      ["double-encoded dots", 400, `"${base}/v1/%252e%252e/key/info"`],
      ["raw backslash", 400, `"${base}/v1/models\\\\..\\\\..\\\\key"`],
      ["encoded NUL", 400, `"${base}/v1/models/a%00b"`],
      ["encoded CRLF", 400, `"${base}/v1/models/a%0d%0aX-Injected:%201"`],
      ["foreign Host (the canary)", 400, `-H "Host: 127.0.0.2:${c}" "${base}/v1/models"`],
      ["foreign Host (a name)", 400, `-H "Host: litellm.example" "${base}/v1/models"`],
      ["dot-segment to key/generate", 400, `-X POST "${base}/v1/../key/generate"`],
      ["dot-segment out of mcp", 400, `-X POST "${base}/mcp/../key"`],
      ["LiteLLM key management", 404, `-X POST "${base}/key/generate"`],
      ["LiteLLM key management under v1", 404, `-X POST "${base}/v1/key/generate"`],
      ["LiteLLM MCP management", 404, `"${base}/v1/mcp/server"`],
      ["LiteLLM health", 404, `"${base}/health"`],
      ["Hangar's own API path", 404, `"${base}/api/v1/health"`],
    ];
    const script = attacks
      .map(
        ([label, , args], n) =>
          `printf '%s %s\\n' ${n} "$(curl -s --path-as-is --noproxy '*' -m 10 -o /tmp/body-${n} ` +
          `-w '%{http_code}' -H "Authorization: Bearer ${token}" -H 'content-type: application/json' ` +
          `${args.startsWith("-X POST") ? "--data '{}' " : ""}${args})" # ${label.replace(/'/g, "")}`,
      )
      .join("\n");
    const out = await inside(sessionId, script + "\ncat /tmp/body-*");
    const answers = new Map(
      out.stdout
        .split("\n")
        .map((line) => /^(\d+) (\d{3})$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [Number(m[1]), Number(m[2])]),
    );
    for (const [n, [label, status]] of attacks.entries()) {
      expect(answers.get(n), `${label}\n${out.stdout}\n${out.stderr}`).toBe(status);
    }
    // Nothing from the canary or from Hangar's own API came back into the sandbox.
    expect(out.stdout).not.toContain("CANARY-REACHED");
    expect(out.stdout).not.toMatch(/"status"\s*:\s*"ok"/);
    expect(canaryHits).toEqual([]);
    expect(upstreamSeen).toEqual([]);

    // A real model call is still forwarded: the platform key goes with it, the session token does not.
    const allowed = await inside(
      sessionId,
      `curl -s --noproxy '*' -m 10 -H "Authorization: Bearer ${token}" -H 'content-type: application/json' ` +
        `--data '{"model":"m","messages":[{"role":"user","content":"hi"}]}' "${base}/v1/chat/completions"; echo; ` +
        `curl -s --noproxy '*' -m 10 -o /dev/null -w '%{http_code}' -H "x-api-key: ${token}" ` +
        `"${base}/v1/models?client_version=1.0"`,
    );
    expect(allowed.stdout, allowed.stderr).toContain("fake-upstream-reply");
    expect(allowed.stdout.trim().endsWith("200")).toBe(true);
    expect(upstreamSeen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "POST /v1/chat/completions",
      "GET /v1/models?client_version=1.0",
    ]);
    for (const seen of upstreamSeen) {
      expect(seen.url).toMatch(ALLOWED);
      expect(seen.headers.authorization).toBe(`Bearer ${PLATFORM_KEY}`);
      expect(JSON.stringify(seen.headers)).not.toContain(token);
    }
    expect(canaryHits).toEqual([]);
    await call("DELETE", `${SESSIONS}/${sessionId}`);
  }, 180_000);
});
