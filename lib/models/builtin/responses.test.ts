import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { listenBuiltinModel, type BuiltinModelServer } from "./index";
import { payloads, post, readSse } from "./test-support";

const execCommand = {
  type: "function",
  name: "exec_command",
  parameters: { type: "object", properties: { cmd: { type: "string" } }, required: ["cmd"] },
};
const applyPatch = { type: "custom", name: "apply_patch", format: { type: "grammar" } };

let server: BuiltinModelServer;
beforeAll(async () => {
  server = await listenBuiltinModel();
});
afterAll(() => server.close());

const responses = (body: object) => post(`${server.url}/responses`, { model: "codex-test", ...body });

const user = (text: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });

describe("OpenAI Responses", () => {
  it("answers without streaming, with instructions and developer messages as the system prompt", async () => {
    const res = await responses({
      instructions: "INSTR",
      input: [
        { type: "message", role: "developer", content: [{ type: "input_text", text: "DEV" }] },
        user("hello"),
      ],
    });
    const body = await res.json();
    expect(body).toMatchObject({
      object: "response",
      status: "completed",
      output: [
        {
          type: "message",
          role: "assistant",
          content: [{ type: "output_text", text: 'Hangar test model: you said "hello"' }],
        },
      ],
      usage: { input_tokens: Math.ceil("INSTRDEVhello".length / 4), output_tokens: 9, total_tokens: 13 },
    });
    expect(server.model.requests().at(-1)?.system).toBe("INSTR\n\nDEV");
  });

  it("streams the events Codex reads, ending in response.completed", async () => {
    const res = await responses({ stream: true, input: [user("THINK: plan\nREPLY: a b c d e f")] });
    const events = await readSse(res);
    const data = payloads(events);
    expect(events.every((e, i) => e.event === data[i]?.type)).toBe(true);
    expect(data.map((d) => d.sequence_number)).toEqual(data.map((_, i) => i));
    const types = data.map((d) => d.type);
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    const done = data.filter((d) => d.type === "response.output_item.done").map((d) => d.item);
    expect(done).toMatchObject([
      { type: "reasoning", summary: [{ type: "summary_text", text: "plan" }] },
      { type: "message", content: [{ type: "output_text", text: "a b c d e f" }] },
    ]);
    const text = data.filter((d) => d.type === "response.output_text.delta").map((d) => d.delta);
    expect(text.length).toBeGreaterThan(1);
    expect(text.join("")).toBe("a b c d e f");
    expect(
      data
        .filter((d) => d.type === "response.reasoning_summary_text.delta")
        .map((d) => d.delta)
        .join(""),
    ).toBe("plan");
    expect(data.at(-1)).toMatchObject({
      response: { status: "completed", usage: { output_tokens_details: { reasoning_tokens: 1 } } },
    });
  });

  it("streams a function call for RUN and a custom apply_patch call for WRITE", async () => {
    const run = payloads(
      await readSse(
        await responses({ stream: true, tools: [execCommand, applyPatch], input: [user("RUN: ls")] }),
      ),
    );
    const call = run.find((d) => d.type === "response.output_item.done")?.item;
    expect(call).toMatchObject({
      type: "function_call",
      name: "exec_command",
      arguments: '{"cmd":"ls"}',
      call_id: expect.stringMatching(/^call_/),
    });
    const args = run.filter((d) => d.type === "response.function_call_arguments.delta").map((d) => d.delta);
    expect(args.join("")).toBe('{"cmd":"ls"}');

    const write = payloads(
      await readSse(
        await responses({
          stream: true,
          tools: [execCommand, applyPatch],
          input: [user("WRITE: /w/f.txt\nbody")],
        }),
      ),
    );
    expect(write.find((d) => d.type === "response.output_item.done")?.item).toMatchObject({
      type: "custom_tool_call",
      name: "apply_patch",
      input: "*** Begin Patch\n*** Add File: /w/f.txt\n+body\n*** End Patch\n",
    });
  });

  it("continues after function_call_output items", async () => {
    const res = await responses({
      tools: [execCommand],
      input: [
        user("RUN: echo 1\nRUN: echo 2"),
        { type: "function_call", call_id: "c1", name: "exec_command", arguments: '{"cmd":"echo 1"}' },
        { type: "function_call_output", call_id: "c1", output: "1\n" },
      ],
    });
    expect((await res.json()).output[0]).toMatchObject({
      type: "function_call",
      arguments: '{"cmd":"echo 2"}',
    });
  });

  it("accepts a plain string input", async () => {
    const body = await (await responses({ input: "REPLY: short" })).json();
    expect(body.output_text).toBe("short");
  });
});
