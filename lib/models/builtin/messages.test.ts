import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { listenBuiltinModel, type BuiltinModelServer } from "./index";
import { payloads, post, readSse } from "./test-support";

const bash = {
  name: "Bash",
  description: "Run a command",
  input_schema: {
    type: "object",
    properties: { command: { type: "string" }, description: { type: "string" } },
    required: ["command"],
  },
};

let server: BuiltinModelServer;
beforeAll(async () => {
  server = await listenBuiltinModel();
});
afterAll(() => server.close());

const messages = (body: object) =>
  post(`${server.url}/v1/messages?beta=true`, { model: "claude-test", max_tokens: 100, ...body });

describe("Anthropic Messages", () => {
  it("answers without streaming, with usage from the text lengths", async () => {
    const res = await messages({
      system: "Be brief.",
      messages: [{ role: "user", content: "Hello model" }],
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    const text = 'Hangar test model: you said "Hello model"';
    expect(body).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-test",
      content: [{ type: "text", text }],
      stop_reason: "end_turn",
      usage: {
        input_tokens: Math.ceil(("Be brief.".length + "Hello model".length) / 4),
        output_tokens: Math.ceil(text.length / 4),
      },
    });
  });

  it("streams thinking, text deltas and the stop reason in the documented event order", async () => {
    const res = await messages({
      stream: true,
      messages: [
        {
          role: "user",
          content: [{ type: "text", text: "THINK: let me see\nREPLY: one two three four five" }],
        },
      ],
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await readSse(res);
    const data = payloads(events);
    expect(events.map((e) => e.event).filter((e) => e !== "content_block_delta")).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_stop",
      "content_block_start",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const deltas = data
      .filter((d) => d.type === "content_block_delta")
      .map((d) => d.delta as Record<string, string>);
    expect(
      deltas
        .filter((d) => d.type === "thinking_delta")
        .map((d) => d.thinking)
        .join(""),
    ).toBe("let me see");
    const text = deltas.filter((d) => d.type === "text_delta").map((d) => d.text);
    expect(text.length).toBeGreaterThan(1);
    expect(text.join("")).toBe("one two three four five");
    expect(data.find((d) => d.type === "message_delta")).toMatchObject({
      delta: { stop_reason: "end_turn" },
    });
  });

  it("streams a tool_use whose partial JSON adds up to the shell call", async () => {
    const res = await messages({
      stream: true,
      tools: [bash],
      messages: [{ role: "user", content: "RUN: echo hi" }],
    });
    const data = payloads(await readSse(res));
    const start = data.find((d) => d.type === "content_block_start");
    expect(start).toMatchObject({ content_block: { type: "tool_use", name: "Bash", input: {} } });
    const json = data
      .filter((d) => d.type === "content_block_delta")
      .map((d) => (d.delta as { partial_json: string }).partial_json)
      .join("");
    expect(JSON.parse(json)).toMatchObject({ command: "echo hi" });
    expect(data.find((d) => d.type === "message_delta")).toMatchObject({
      delta: { stop_reason: "tool_use" },
    });
  });

  it("reads the tool result back, skipping Claude Code's reminders and system messages", async () => {
    const res = await messages({
      tools: [bash],
      messages: [
        {
          role: "user",
          content: [
            {
              type: "text",
              text: "<system-reminder>\nContents of CLAUDE.md: PROMPT-X\n</system-reminder>\n",
            },
            { type: "text", text: "RUN: echo hi" },
          ],
        },
        { role: "system", content: "# Environment\n - Primary working directory: /tmp/w" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "echo hi" } }],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "hi" }] },
            { type: "text", text: "<system-reminder>noise</system-reminder>" },
          ],
        },
      ],
    });
    const body = await res.json();
    expect(body.content).toEqual([{ type: "text", text: "Ran `echo hi`:\nhi" }]);
    const [entry] = server.model.requests().slice(-1);
    expect(entry?.userText).toBe("RUN: echo hi");
    expect(entry?.system).toContain("PROMPT-X");
  });

  it("counts tokens", async () => {
    const res = await post(`${server.url}/messages/count_tokens`, {
      model: "claude-test",
      messages: [{ role: "user", content: "12345678" }],
    });
    expect(await res.json()).toEqual({ input_tokens: 2 });
  });

  it("answers errors in Anthropic's shape, with retry-after on 429", async () => {
    const res = await messages({ messages: [{ role: "user", content: "ERROR: 429" }] });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    const bad = await messages({ messages: "nope" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });
});
