import { describe, expect, it } from "vitest";

import {
  checkModelTarget,
  hostNameOf,
  LOOPBACK_NAMES,
  sharedEndpointNames,
  upstreamUrl,
  type ModelTarget,
} from "./paths";

const target = (method: string, raw: string) => checkModelTarget(method, raw);

describe("checkModelTarget", () => {
  it.each([
    ["POST", "/v1/chat/completions", "chat", "v1/chat/completions"],
    ["POST", "/chat/completions", "chat", "chat/completions"],
    ["POST", "/v1/responses", "responses", "v1/responses"],
    ["POST", "/v1/messages?beta=true", "messages", "v1/messages"],
    ["POST", "/messages/count_tokens", "count_tokens", "messages/count_tokens"],
    ["GET", "/v1/models?client_version=0.171.0", "models", "v1/models"],
    ["GET", "/models/claude-sonnet-4.6", "models", "models/claude-sonnet-4.6"],
    ["GET", "/v1/models/gpt%3A5", "models", "v1/models/gpt%3A5"],
    ["POST", "/v1/embeddings", "embeddings", "v1/embeddings"],
    ["POST", "/mcp/github", "mcp", "mcp/github"],
    ["GET", "/mcp/my%20server/", "mcp", "mcp/my%20server/"],
    ["DELETE", "/mcp/linear", "mcp", "mcp/linear"],
  ])("%s %s is the %s API", (method, raw, api, path) => {
    expect(target(method, raw)).toMatchObject({ api, path });
  });

  it("passes a plain query on, encoded slashes included", () => {
    expect(target("GET", "/v1/models?a=1&model=anthropic%2Fclaude")).toMatchObject({
      search: "?a=1&model=anthropic%2Fclaude",
    });
  });

  it.each([
    "http://127.0.0.1:3000/v1/models",
    "https://evil.example/v1/models",
    "127.0.0.1:3000",
    "*",
    "",
    "//127.0.0.1:3000/../../x",
    "/v1//chat/completions",
    "/v1/models//x",
    "/v1/../key/generate",
    "/mcp/../key",
    "/v1/./models",
    "/v1/models/..",
    "/v1/%2e%2e/key/generate",
    "/v1/%2E%2E/key/generate",
    "/v1/.%2e/key",
    "/v1%2fmodels",
    "/v1%2Fmodels",
    "/v1/models%5c..%5ckey",
    "/v1/%252e%252e/key",
    "/v1/models/%25",
    "/v1/models\\..\\key",
    "/v1/models/a%00",
    "/v1/models/%0d%0aX: y",
    "/v1/models?x=%0a",
    "/v1/models/%zz",
    "/v1/models/%2",
    "/v1/models/\u00e9",
    "/v1/models/a b",
    "/v1/models#x",
    "/v1/models/\u0001",
    `/v1/models/${"a".repeat(5000)}`,
  ])("refuses %j with 400", (raw) => {
    expect(target("GET", raw)).toMatchObject({ status: 400 });
  });

  it.each([
    ["POST", "/key/generate"],
    ["POST", "/v1/key/generate"],
    ["GET", "/health"],
    ["GET", "/api/v1/health"],
    ["POST", "/v1/mcp/server"],
    ["GET", "/mcp/"],
    ["GET", "/mcp/a/b"],
    ["POST", "/v1/v1/chat/completions"],
    ["POST", "/v1/chat/completions/x"],
    ["GET", "/v1/models/a/b"],
    ["POST", "/model/new"],
    ["GET", "/"],
  ])("%s %s is not forwarded (404)", (method, raw) => {
    expect(target(method, raw)).toMatchObject({ status: 404 });
  });

  it("answers a wrong method with 405 and the methods that would do", () => {
    expect(target("GET", "/v1/chat/completions")).toMatchObject({ status: 405, allow: "POST" });
    expect(target("PUT", "/mcp/github")).toMatchObject({ status: 405, allow: "GET, POST, DELETE" });
  });
});

describe("Host names", () => {
  it.each([
    ["127.0.0.1:4000", "127.0.0.1"],
    ["LOCALHOST:4000", "localhost"],
    ["[::1]:4000", "[::1]"],
    ["hangar-gateway.hangar.svc.cluster.local.", "hangar-gateway.hangar.svc.cluster.local"],
  ])("%s names %s", (header, name) => {
    expect(hostNameOf(header)).toBe(name);
  });

  it.each([undefined, "", "a b", "evil.example@127.0.0.1", "127.0.0.1:4000/x", "127.0.0.1:99999", "[::1"])(
    "%j is malformed",
    (header) => {
      expect(hostNameOf(header)).toBeNull();
    },
  );

  it("the shared endpoint answers to its Service name, its short forms and loopback", () => {
    expect(sharedEndpointNames("hangar-gateway.hangar.svc.cluster.local")).toEqual([
      "hangar-gateway.hangar.svc.cluster.local",
      "hangar-gateway",
      "hangar-gateway.hangar",
      "hangar-gateway.hangar.svc",
      ...LOOPBACK_NAMES,
    ]);
    expect(sharedEndpointNames("gw.example.com")).toEqual(["gw.example.com", ...LOOPBACK_NAMES]);
  });
});

describe("upstreamUrl", () => {
  const ok = (raw: string) => checkModelTarget("POST", raw) as ModelTarget;

  it("is the base plus the checked path and query", () => {
    expect(upstreamUrl("https://gw.example", ok("/v1/messages?beta=true")).href).toBe(
      "https://gw.example/v1/messages?beta=true",
    );
    expect(upstreamUrl("https://gw.example/litellm/", ok("/chat/completions")).href).toBe(
      "https://gw.example/litellm/chat/completions",
    );
    expect(upstreamUrl("http://u:p@10.0.0.5:4000/a", ok("/mcp/github")).href).toBe(
      "http://u:p@10.0.0.5:4000/a/mcp/github",
    );
  });

  it("throws when a path would leave the base (the checks above never let one through)", () => {
    for (const path of ["../x", "%2e%2e/x", "a/../../x", "%2E./x"]) {
      expect(() => upstreamUrl("https://gw.example/base", { path, search: "" }), path).toThrow(
        /left the gateway's base/,
      );
    }
  });
});
