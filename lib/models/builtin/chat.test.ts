import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { listenBuiltinModel, type BuiltinModelServer } from "./index";
import { payloads, post, readSse } from "./test-support";

const tools = [
  {
    type: "function",
    function: {
      name: "bash",
      parameters: { type: "object", properties: { command: { type: "string" } }, required: ["command"] },
    },
  },
  {
    type: "function",
    function: {
      name: "write",
      parameters: {
        type: "object",
        properties: { content: { type: "string" }, filePath: { type: "string" } },
        required: ["content", "filePath"],
      },
    },
  },
];

let server: BuiltinModelServer;
beforeAll(async () => {
  server = await listenBuiltinModel();
});
afterAll(() => server.close());

const chat = (body: object) => post(`${server.url}/v1/chat/completions`, { model: "gpt-test", ...body });

type Chunk = { choices: { delta: Record<string, unknown>; finish_reason: string | null }[]; usage?: object };

describe("OpenAI chat completions", () => {
  it("answers without streaming", async () => {
    const res = await chat({
      messages: [
        { role: "system", content: "sys" },
        { role: "user", content: "REPLY: hi there" },
      ],
    });
    expect(await res.json()).toMatchObject({
      object: "chat.completion",
      model: "gpt-test",
      choices: [{ index: 0, message: { role: "assistant", content: "hi there" }, finish_reason: "stop" }],
      usage: {
        prompt_tokens: Math.ceil(("sys".length + "REPLY: hi there".length) / 4),
        completion_tokens: 2,
        total_tokens: 7,
      },
    });
  });

  it("streams reasoning, content deltas, the finish reason, usage and [DONE]", async () => {
    const res = await chat({
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: [{ type: "text", text: "THINK: hmm\nfour words right here" }] }],
    });
    const events = await readSse(res);
    expect(events.at(-1)?.data).toBe("[DONE]");
    const chunks = payloads(events) as Chunk[];
    const deltas = chunks.flatMap((c) => c.choices.map((ch) => ch.delta));
    expect(deltas.map((d) => d.reasoning_content ?? "").join("")).toBe("hmm");
    const content = deltas.filter((d) => d.content).map((d) => d.content);
    expect(content.length).toBeGreaterThan(1);
    expect(content.join("")).toBe('Hangar test model: you said "four words right here"');
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean)).toEqual(["stop"]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number) } });
  });

  it("streams a tool call and finishes with tool_calls; omits usage unless asked", async () => {
    const res = await chat({
      stream: true,
      tools,
      messages: [{ role: "user", content: "WRITE: /w/a.txt\nalpha" }],
    });
    const chunks = payloads(await readSse(res)) as Chunk[];
    const calls = chunks.flatMap((c) =>
      c.choices.flatMap((ch) => (ch.delta.tool_calls as object[] | undefined) ?? []),
    );
    expect(calls[0]).toMatchObject({
      index: 0,
      type: "function",
      id: expect.stringMatching(/^call_/),
      function: { name: "write" },
    });
    const args = calls.map((c) => (c as { function: { arguments: string } }).function.arguments).join("");
    expect(JSON.parse(args)).toEqual({ filePath: "/w/a.txt", content: "alpha\n" });
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean)).toEqual([
      "tool_calls",
    ]);
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it("reads role:tool results and writes the final text", async () => {
    const res = await chat({
      tools,
      messages: [
        { role: "user", content: "RUN: cat x" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "bash", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "c1", content: "file body" },
      ],
    });
    const body = await res.json();
    expect(body.choices[0]).toMatchObject({
      message: { content: "Ran `cat x`:\nfile body" },
      finish_reason: "stop",
    });
  });

  it("answers errors in OpenAI's shape", async () => {
    const res = await chat({ messages: [{ role: "user", content: "ERROR: 500 boom" }] });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      error: { message: "boom", type: "server_error", code: "server_error", param: null },
    });
  });
});
