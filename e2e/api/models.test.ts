import http from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { api } from "../support/api";
import { startServer, type TestServer } from "../support/server";

describe("GET /api/v1/models", () => {
  it("with no gateway configured: the built-in test model, said plainly", async () => {
    const res = await api("GET", "/api/v1/models");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      data: [{ id: "hangar-test-model", owned_by: "hangar" }],
      source: "builtin",
      gateway_host: null,
    });
    expect(res.body.reason).toMatch(/^Built-in test model: no LITELLM_API_BASE is configured/);
    const log = await api("GET", "/api/v1/model_gateway/requests");
    expect(log.status).toBe(200);
    expect(log.body.builtin).toBe(true);
  });
});

// The LLM gateway is the edge this machine cannot reach: a stand-in HTTP server plays it here.
describe("GET /api/v1/models against a stand-in gateway (fake LLM provider edge)", () => {
  const GATEWAY_KEY = "sk-platform-" + crypto.randomUUID();
  const seenAuth: (string | undefined)[] = [];
  let mode: "ok" | "fail" = "ok";
  let gateway: http.Server;
  let hangar: TestServer;

  beforeAll(async () => {
    gateway = http.createServer((req, res) => {
      seenAuth.push(req.headers.authorization);
      if (mode === "fail" || req.url !== "/v1/models") {
        res.writeHead(500).end("boom");
        return;
      }
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          object: "list",
          data: [
            { id: "openai/gpt-5", owned_by: "openai" },
            { id: "anthropic/claude-sonnet-4-6" },
            { bogus: 1 },
          ],
        }),
      );
    });
    await new Promise<void>((r) => gateway.listen(0, "127.0.0.1", r));
    const port = (gateway.address() as AddressInfo).port;
    hangar = await startServer({
      env: { LITELLM_API_BASE: `http://127.0.0.1:${port}`, LITELLM_API_KEY: GATEWAY_KEY },
    });
  }, 120_000);

  afterAll(async () => {
    await hangar?.stop();
    gateway?.close();
  });

  const get = async () => {
    const res = await fetch(`${hangar.url}/api/v1/models`, {
      headers: { authorization: `Bearer ${hangar.masterKey}` },
    });
    return { status: res.status, text: await res.text() };
  };

  it("lists the gateway's models, sorted, with the platform key sent upstream only", async () => {
    mode = "ok";
    const res = await get();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      data: [
        { id: "anthropic/claude-sonnet-4-6", owned_by: null },
        { id: "openai/gpt-5", owned_by: "openai" },
      ],
      source: "gateway",
      gateway_host: "127.0.0.1",
      reason: null,
    });
    expect(seenAuth.at(-1)).toBe(`Bearer ${GATEWAY_KEY}`);
    expect(res.text).not.toContain(GATEWAY_KEY);
  });

  it("a failing gateway gives an empty list and a reason, not a 500", async () => {
    mode = "fail";
    const res = await get();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      data: [],
      source: "gateway",
      gateway_host: "127.0.0.1",
      reason: "The model gateway answered 500 for /v1/models.",
    });
  });
});
