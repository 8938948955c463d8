import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";

import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";

import { createBuiltinModel, listenBuiltinModel, type BuiltinModelServer } from "./index";
import { payloads, post, readSse } from "./test-support";

let server: BuiltinModelServer;
beforeAll(async () => {
  server = await listenBuiltinModel({ models: ["model-a", "model-b"] });
});
afterAll(() => server.close());
beforeEach(() => server.model.clear());

const chatBody = (text: string, extra: object = {}) => ({
  model: "m",
  messages: [{ role: "user", content: text }],
  ...extra,
});

describe("routing", () => {
  it("serves every route with and without the /v1 prefix", async () => {
    for (const prefix of ["/v1", ""]) {
      expect((await post(`${server.url}${prefix}/chat/completions`, chatBody("a"))).status).toBe(200);
      expect((await post(`${server.url}${prefix}/responses`, { model: "m", input: "a" })).status).toBe(200);
      expect((await post(`${server.url}${prefix}/messages`, chatBody("a"))).status).toBe(200);
      expect((await fetch(`${server.url}${prefix}/models`)).status).toBe(200);
    }
    expect(server.model.requests().map((r) => r.api)).toEqual([
      ...["chat", "responses", "messages", "models"],
      ...["chat", "responses", "messages", "models"],
    ]);
  });

  it("lists models in a shape both OpenAI and Anthropic clients read", async () => {
    const list = await (await fetch(`${server.url}/v1/models`)).json();
    expect(list).toMatchObject({ object: "list", has_more: false, first_id: "model-a", last_id: "model-b" });
    expect(list.data[1]).toMatchObject({
      id: "model-b",
      object: "model",
      owned_by: "hangar",
      type: "model",
      display_name: "model-b",
    });
    expect(await (await fetch(`${server.url}/v1/models/claude-x`)).json()).toMatchObject({
      id: "claude-x",
      type: "model",
    });
  });

  it("answers unknown paths with a 404 in the caller's error shape", async () => {
    const openai = await fetch(`${server.url}/v1/embeddings`, { method: "POST", body: "{}" });
    expect(openai.status).toBe(404);
    expect(await openai.json()).toMatchObject({
      error: { type: "invalid_request_error", code: "not_found" },
    });
    const anthropic = await fetch(`${server.url}/v1/complete`, {
      headers: { "anthropic-version": "2023-06-01" },
    });
    expect(anthropic.status).toBe(404);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    expect(server.model.requests().map((r) => [r.api, r.status])).toEqual([
      ["unknown", 404],
      ["unknown", 404],
    ]);
  });

  it("rejects a wrong method with 405 and a body that is not JSON with 400", async () => {
    const get = await fetch(`${server.url}/v1/messages`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const bad = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", body: "{nope" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { message: "request body is not valid JSON" } });
  });

  it("reads gzip-encoded bodies", async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-encoding": "gzip", "content-type": "application/json" },
      body: gzipSync(JSON.stringify(chatBody("REPLY: zipped"))),
    });
    expect((await res.json()).choices[0].message.content).toBe("zipped");
  });
});

describe("scripted errors", () => {
  it("fails the first attempt of ERROR: 429 x1 with retry-after, then succeeds", async () => {
    const body = chatBody("ERROR: 429 x1\nREPLY: recovered");
    const first = await post(`${server.url}/v1/chat/completions`, body);
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("1");
    expect(await first.json()).toMatchObject({ error: { type: "requests", code: "rate_limit_exceeded" } });
    const second = await post(`${server.url}/v1/chat/completions`, body);
    expect(second.status).toBe(200);
    expect((await second.json()).choices[0].message.content).toBe("recovered");
    expect(server.model.requests().map((r) => r.status)).toEqual([429, 200]);
  });
});

describe("slow streams", () => {
  it("spaces deltas by the SLOW delay", async () => {
    const started = Date.now();
    const res = await post(`${server.url}/v1/messages`, {
      ...chatBody("SLOW: 120\nREPLY: one two three four"),
      stream: true,
    });
    const deltas = (await readSse(res)).filter((e) => e.event === "content_block_delta");
    expect(deltas).toHaveLength(4);
    expect(deltas.at(-1)!.at - started).toBeGreaterThanOrEqual(4 * 120 - 10);
    const gaps = deltas.slice(1).map((e, i) => e.at - deltas[i]!.at);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(90);
  });

  it("notices a client that aborts mid-stream", async () => {
    const res = await post(`${server.url}/v1/responses`, {
      model: "m",
      stream: true,
      input: "SLOW: 150\nREPLY: a b c d e f g h",
    });
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("response.output_text.delta")) {
      const { value } = await reader.read();
      seen += new TextDecoder().decode(value);
    }
    await reader.cancel();
    await new Promise((r) => setTimeout(r, 400));
    const [entry] = server.model.requests();
    expect(seen).not.toContain("response.completed");
    expect(entry).toMatchObject({ api: "responses", status: 200, aborted: true });
  });
});

describe("bounds", () => {
  /** A raw request whose body is `size` bytes, with or without a content-length. */
  function send(url: string, size: number, chunked: boolean): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(chunked ? {} : { "content-length": size }) },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      const chunk = Buffer.alloc(1024, " ");
      let left = size;
      const more = () => {
        while (left > 0 && !req.destroyed) {
          left -= chunk.length;
          if (!req.write(left >= 0 ? chunk : chunk.subarray(0, chunk.length + left)))
            return void req.once("drain", more);
        }
        if (!req.destroyed) req.end();
      };
      more();
    });
  }

  it("answers a body over the cap with 413, by its length or once it has read that much", async () => {
    const gw = await listenBuiltinModel({ maxBodyBytes: 64 * 1024 });
    onTestFinished(() => gw.close());
    const declared = await send(gw.url, 1024 * 1024, false);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ error: { message: /at most 65536 bytes/ } });
    const streamed = await send(gw.url, 128 * 1024, true).catch((err: Error) => ({
      status: 0,
      body: err.message,
    }));
    // The connection closes after the answer; a client still sending may see the reset first.
    expect([413, 0]).toContain(streamed.status);
    expect(gw.model.requests().map((r) => r.status)).toEqual([413, 413]);
    expect((await post(`${gw.url}/v1/chat/completions`, chatBody("REPLY: fits"))).status).toBe(200);
  });

  it("answers 429 with retry-after past the requests in flight, overall and per session", async () => {
    const gw = await listenBuiltinModel({ maxInFlight: 3, maxInFlightPerSession: 2 });
    onTestFinished(() => gw.close());
    const slow = (session: string) =>
      post(`${gw.url}/session/${session}/v1/chat/completions`, {
        ...chatBody("SLOW: 150\nREPLY: a b c d"),
        stream: true,
      });
    const a = [await slow("a"), await slow("a")];
    const third = await slow("a");
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("1");
    const b = await slow("b");
    expect(b.status).toBe(200);
    const overall = await slow("c");
    expect(overall.status).toBe(429);
    await Promise.all([...a, b].map((res) => res.text()));
    expect((await slow("c")).status).toBe(200);
  });
});

describe("request log", () => {
  it("records what a test needs to assert on", async () => {
    await post(`${server.url}/v1/messages`, {
      model: "claude-x",
      stream: true,
      system: [{ type: "text", text: "AGENT PROMPT" }],
      tools: [
        { name: "Bash", input_schema: { type: "object", properties: { command: { type: "string" } } } },
      ],
      messages: [{ role: "user", content: "RUN: ls" }],
    }).then(readSse);
    expect(server.model.requests()).toEqual([
      expect.objectContaining({
        api: "messages",
        method: "POST",
        path: "/v1/messages",
        model: "claude-x",
        stream: true,
        system: "AGENT PROMPT",
        userText: "RUN: ls",
        tools: ["Bash"],
        directives: ["RUN"],
        reply: { kind: "tool", tool: "Bash", input: { command: "ls" }, thinking: null },
        status: 200,
        aborted: false,
        session: null,
      }),
    ]);
  });

  it("tags entries with the session of a /session/<tag>/ prefix and filters and clears by it", async () => {
    await post(`${server.url}/session/s1/v1/chat/completions`, chatBody("a"));
    await post(`${server.url}/session/s2/v1/chat/completions`, chatBody("b"));
    await post(`${server.url}/session/s2/responses`, { model: "m", input: "c" });
    expect(server.model.requests({ session: "s1" }).map((r) => r.userText)).toEqual(["a"]);
    expect(server.model.requests({ session: "s2", api: "responses" }).map((r) => r.userText)).toEqual(["c"]);
    server.model.clear({ session: "s2" });
    expect(server.model.requests().map((r) => r.session)).toEqual(["s1"]);
  });

  it("keeps only the newest entries", async () => {
    const small = await listenBuiltinModel({ logSize: 2 });
    try {
      for (const text of ["1", "2", "3"]) await post(`${small.url}/v1/chat/completions`, chatBody(text));
      expect(small.model.requests().map((r) => r.userText)).toEqual(["2", "3"]);
    } finally {
      await small.close();
    }
  });
});

describe("mounting", () => {
  it("serves through handle() with a session context, as Hangar's per-session endpoint does", async () => {
    const model = createBuiltinModel();
    const host = http.createServer((req, res) => void model.handle(req, res, { session: "ses_1" }));
    await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
      const res = await post(`${url}/v1/chat/completions`, { ...chatBody("REPLY: mounted"), stream: true });
      const text = payloads(await readSse(res))
        .flatMap((c) => (c.choices as { delta: { content?: string } }[]).map((ch) => ch.delta.content ?? ""))
        .join("");
      expect(text).toBe("mounted");
      expect(model.requests({ session: "ses_1" })).toHaveLength(1);
    } finally {
      host.close();
      host.closeAllConnections();
    }
  });

  it("listens on a Unix socket", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-sock-"));
    const socket = await listenBuiltinModel({ socketPath: path.join(dir, "llm.sock") });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get({ socketPath: socket.socketPath!, path: "/v1/models" }, (res) => {
            let data = "";
            res.on("data", (c) => (data += c));
            res.on("end", () => resolve(data));
          })
          .on("error", reject);
      });
      expect(JSON.parse(body).data[0].id).toBe("hangar-test-model");
    } finally {
      await socket.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
