import type http from "node:http";

import { z } from "zod";

import { buildConversation, textOf, type FlatMessage } from "./conversation";
import { BuiltinModelError } from "./errors";
import { newId } from "./ids";
import { estimateTokens, outputChars, splitChunks, splitEvenly, SseWriter } from "./sse";
import { toSchema } from "./tools";
import type { Conversation, JsonObject, ReplyPlan, ToolSpec } from "./types";

/*
 * OpenAI Responses (`POST /v1/responses`), the only wire API Codex speaks. Codex builds its history
 * from `response.output_item.done` items and fails a turn whose stream ends without
 * `response.completed`, so every item is sent whole at its end, and the stream always completes.
 * Instructions arrive as `developer` messages (and `instructions`), tool results as
 * `function_call_output` / `custom_tool_call_output` items.
 */

const requestSchema = z.looseObject({
  model: z.string(),
  instructions: z.string().nullish(),
  input: z.union([
    z.string(),
    z.array(
      z.looseObject({
        type: z.string().optional(),
        role: z.string().optional(),
        content: z.unknown().optional(),
        output: z.unknown().optional(),
      }),
    ),
  ]),
  tools: z
    .array(
      z.looseObject({
        type: z.string(),
        name: z.string().optional(),
        description: z.string().optional(),
        parameters: z.unknown().optional(),
      }),
    )
    .optional(),
  stream: z.boolean().optional(),
});

type ResponsesRequest = z.infer<typeof requestSchema>;
type InputItem = Exclude<ResponsesRequest["input"], string>[number];

const TOOL_OUTPUTS = new Set(["function_call_output", "custom_tool_call_output", "local_shell_call_output"]);

function outputText(value: unknown): string {
  if (typeof value === "object" && value !== null && "content" in value) return textOf(value.content);
  return textOf(value);
}

function flatten(item: InputItem): FlatMessage {
  if (item.type !== undefined && TOOL_OUTPUTS.has(item.type))
    return { role: "tool", output: outputText(item.output) };
  if (item.type === undefined || item.type === "message") {
    const text = textOf(item.content);
    if (item.role === "user") return { role: "user", text };
    if (item.role === "assistant") return { role: "assistant", text };
    return { role: "system", text };
  }
  return { role: "assistant", text: "" };
}

function tools(request: ResponsesRequest): ToolSpec[] {
  return (request.tools ?? []).flatMap((t): ToolSpec[] => {
    const description = t.description ?? "";
    if (t.type === "local_shell")
      return [{ name: "local_shell", kind: "local_shell", description, schema: {} }];
    if (!t.name) return [];
    if (t.type === "function")
      return [{ name: t.name, kind: "function", description, schema: toSchema(t.parameters) }];
    if (t.type === "custom") return [{ name: t.name, kind: "custom", description, schema: {} }];
    return [];
  });
}

export function parseResponsesRequest(body: unknown): Conversation {
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success)
    throw new BuiltinModelError(400, `invalid Responses request: ${parsed.error.issues[0]?.message}`);
  const request = parsed.data;
  const messages: FlatMessage[] =
    typeof request.input === "string" ? [{ role: "user", text: request.input }] : request.input.map(flatten);
  return buildConversation({
    model: request.model,
    stream: request.stream ?? false,
    system: request.instructions ? [request.instructions] : [],
    messages,
    tools: tools(request),
  });
}

type OutputItem =
  | { type: "reasoning"; id: string; summary: { type: "summary_text"; text: string }[] }
  | {
      type: "message";
      id: string;
      status: "completed";
      role: "assistant";
      content: { type: "output_text"; text: string; annotations: [] }[];
    }
  | {
      type: "function_call";
      id: string;
      status: "completed";
      call_id: string;
      name: string;
      arguments: string;
    }
  | {
      type: "custom_tool_call";
      id: string;
      status: "completed";
      call_id: string;
      name: string;
      input: string;
    }
  | { type: "local_shell_call"; id: string; status: "completed"; call_id: string; action: JsonObject };

function outputOf(plan: ReplyPlan): OutputItem[] {
  const items: OutputItem[] = [];
  if (plan.thinking) {
    items.push({
      type: "reasoning",
      id: newId("rs_"),
      summary: [{ type: "summary_text", text: plan.thinking }],
    });
  }
  if (plan.text !== null) {
    items.push({
      type: "message",
      id: newId("msg_"),
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: plan.text, annotations: [] }],
    });
  }
  const call = plan.toolCall;
  if (call) {
    const base = { id: newId("fc_"), status: "completed" as const, call_id: newId("call_") };
    if (call.tool.kind === "custom") {
      items.push({
        ...base,
        type: "custom_tool_call",
        name: call.tool.name,
        input: typeof call.input === "string" ? call.input : JSON.stringify(call.input),
      });
    } else if (call.tool.kind === "local_shell" && typeof call.input !== "string") {
      items.push({ ...base, type: "local_shell_call", action: call.input });
    } else {
      const args = typeof call.input === "string" ? call.input : JSON.stringify(call.input);
      items.push({ ...base, type: "function_call", name: call.tool.name, arguments: args });
    }
  }
  return items;
}

export async function sendResponsesReply(
  res: http.ServerResponse,
  conv: Conversation,
  plan: ReplyPlan,
): Promise<{ aborted: boolean }> {
  const input = estimateTokens(conv.inputChars);
  const output = estimateTokens(outputChars(plan));
  const reasoning = estimateTokens((plan.thinking ?? "").length);
  const items = outputOf(plan);
  const response = {
    id: newId("resp_"),
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: "completed",
    model: conv.model,
    output: items,
    output_text: plan.text ?? "",
    usage: {
      input_tokens: input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: output,
      output_tokens_details: { reasoning_tokens: reasoning },
      total_tokens: input + output,
    },
  };
  if (!conv.stream) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(response));
    return { aborted: false };
  }
  const sse = new SseWriter(res, plan.delayMs);
  let sequence = 0;
  const event = (type: string, data: object) => ({ type, sequence_number: sequence++, ...data });
  const send = (type: string, data: object) => sse.send(type, event(type, data));
  const delta = (type: string, data: object) => sse.delta(type, event(type, data));
  const pending = { ...response, status: "in_progress", output: [], output_text: undefined, usage: null };
  send("response.created", { response: pending });
  send("response.in_progress", { response: pending });
  for (const [output_index, item] of items.entries()) {
    const at = { item_id: item.id, output_index };
    if (item.type === "reasoning") {
      const text = item.summary[0]?.text ?? "";
      const part = { type: "summary_text", text: "" };
      send("response.output_item.added", { output_index, item: { ...item, summary: [] } });
      send("response.reasoning_summary_part.added", { ...at, summary_index: 0, part });
      for (const piece of splitChunks(text)) {
        await delta("response.reasoning_summary_text.delta", { ...at, summary_index: 0, delta: piece });
      }
      send("response.reasoning_summary_text.done", { ...at, summary_index: 0, text });
      send("response.reasoning_summary_part.done", { ...at, summary_index: 0, part: { ...part, text } });
    } else if (item.type === "message") {
      const text = item.content[0]?.text ?? "";
      const part = { type: "output_text", text: "", annotations: [] };
      send("response.output_item.added", {
        output_index,
        item: { ...item, status: "in_progress", content: [] },
      });
      send("response.content_part.added", { ...at, content_index: 0, part });
      for (const piece of splitChunks(text)) {
        await delta("response.output_text.delta", { ...at, content_index: 0, delta: piece, logprobs: [] });
      }
      send("response.output_text.done", { ...at, content_index: 0, text, logprobs: [] });
      send("response.content_part.done", { ...at, content_index: 0, part: { ...part, text } });
    } else if (item.type === "function_call") {
      send("response.output_item.added", {
        output_index,
        item: { ...item, status: "in_progress", arguments: "" },
      });
      for (const piece of splitEvenly(item.arguments)) {
        await delta("response.function_call_arguments.delta", { ...at, delta: piece });
      }
      send("response.function_call_arguments.done", { ...at, arguments: item.arguments });
    } else if (item.type === "custom_tool_call") {
      send("response.output_item.added", {
        output_index,
        item: { ...item, status: "in_progress", input: "" },
      });
      for (const piece of splitEvenly(item.input)) {
        await delta("response.custom_tool_call_input.delta", { ...at, delta: piece });
      }
      send("response.custom_tool_call_input.done", { ...at, input: item.input });
    } else {
      send("response.output_item.added", { output_index, item: { ...item, status: "in_progress" } });
    }
    send("response.output_item.done", { output_index, item });
  }
  send("response.completed", { response });
  const aborted = sse.aborted;
  sse.end();
  return { aborted };
}
