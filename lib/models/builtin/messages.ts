import type http from "node:http";

import { z } from "zod";

import { buildConversation, textOf, type FlatMessage } from "./conversation";
import { BuiltinModelError } from "./errors";
import { newId } from "./ids";
import { estimateTokens, outputChars, splitChunks, splitEvenly, SseWriter } from "./sse";
import { toSchema } from "./tools";
import type { Conversation, ReplyPlan, ToolSpec } from "./types";

/*
 * Anthropic Messages (`POST /v1/messages`, `/v1/messages/count_tokens`), as Claude Code and the
 * Claude Agent SDK call it: `?beta=true`, streaming, a `system` array, and — beyond the public
 * API — `role: "system"` messages carrying an environment reminder after the user turn.
 */

const block = z.looseObject({ type: z.string() });

const requestSchema = z.looseObject({
  model: z.string(),
  messages: z.array(z.looseObject({ role: z.string(), content: z.union([z.string(), z.array(block)]) })),
  system: z.union([z.string(), z.array(block)]).optional(),
  tools: z
    .array(
      z.looseObject({
        name: z.string(),
        type: z.string().optional(),
        description: z.string().optional(),
        input_schema: z.unknown().optional(),
      }),
    )
    .optional(),
  stream: z.boolean().optional(),
});

type MessagesRequest = z.infer<typeof requestSchema>;
type Block = z.infer<typeof block>;

function parse(body: unknown): MessagesRequest {
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success)
    throw new BuiltinModelError(400, `invalid Messages request: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function flatten(role: string, content: string | Block[]): FlatMessage[] {
  if (typeof content === "string")
    return [{ role: role === "system" ? "system" : toRole(role), text: content }];
  const results = content.filter((b) => b.type === "tool_result");
  const texts = content.filter((b) => b.type === "text").map(textOf);
  if (results.length === 0) return [{ role: toRole(role), text: texts.join("\n") }];
  return [
    ...results.map((b): FlatMessage => ({ role: "tool", output: textOf(b.content) })),
    { role: "context", text: texts.join("\n") },
  ];
}

function toRole(role: string): "system" | "user" | "assistant" {
  return role === "assistant" ? "assistant" : role === "user" ? "user" : "system";
}

function tools(request: MessagesRequest): ToolSpec[] {
  return (request.tools ?? [])
    .filter((t) => t.input_schema !== undefined)
    .map((t) => ({
      name: t.name,
      kind: "function",
      description: t.description ?? "",
      schema: toSchema(t.input_schema),
    }));
}

export function parseMessagesRequest(body: unknown): Conversation {
  const request = parse(body);
  const system = request.system === undefined ? [] : [textOf(request.system)];
  return buildConversation({
    model: request.model,
    stream: request.stream ?? false,
    system,
    messages: request.messages.flatMap((m) => flatten(m.role, m.content)),
    tools: tools(request),
  });
}

type ContentBlock =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown };

function contentOf(plan: ReplyPlan): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  if (plan.thinking) {
    blocks.push({
      type: "thinking",
      thinking: plan.thinking,
      signature: Buffer.from("hangar").toString("base64"),
    });
  }
  if (plan.text !== null) blocks.push({ type: "text", text: plan.text });
  if (plan.toolCall) {
    blocks.push({
      type: "tool_use",
      id: newId("toolu_"),
      name: plan.toolCall.tool.name,
      input: plan.toolCall.input,
    });
  }
  return blocks;
}

function usage(conv: Conversation, plan: ReplyPlan) {
  return {
    input_tokens: estimateTokens(conv.inputChars),
    output_tokens: estimateTokens(outputChars(plan)),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
}

export async function sendMessagesReply(
  res: http.ServerResponse,
  conv: Conversation,
  plan: ReplyPlan,
): Promise<{ aborted: boolean }> {
  const message = {
    id: newId("msg_"),
    type: "message",
    role: "assistant",
    model: conv.model,
    content: contentOf(plan),
    stop_reason: plan.toolCall ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: usage(conv, plan),
  };
  if (!conv.stream) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(message));
    return { aborted: false };
  }
  const sse = new SseWriter(res, plan.delayMs);
  const send = (type: string, data: object) => sse.send(type, { type, ...data });
  const delta = (index: number, data: object) =>
    sse.delta("content_block_delta", { type: "content_block_delta", index, delta: data });
  send("message_start", {
    message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 0 } },
  });
  send("ping", {});
  for (const [index, b] of message.content.entries()) {
    if (b.type === "thinking") {
      send("content_block_start", {
        index,
        content_block: { type: "thinking", thinking: "", signature: "" },
      });
      for (const piece of splitChunks(b.thinking))
        await delta(index, { type: "thinking_delta", thinking: piece });
      await delta(index, { type: "signature_delta", signature: b.signature });
    } else if (b.type === "text") {
      send("content_block_start", { index, content_block: { type: "text", text: "" } });
      for (const piece of splitChunks(b.text)) await delta(index, { type: "text_delta", text: piece });
    } else {
      send("content_block_start", { index, content_block: { ...b, input: {} } });
      for (const piece of splitEvenly(JSON.stringify(b.input))) {
        await delta(index, { type: "input_json_delta", partial_json: piece });
      }
    }
    send("content_block_stop", { index });
  }
  send("message_delta", {
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: { output_tokens: message.usage.output_tokens },
  });
  send("message_stop", {});
  const aborted = sse.aborted;
  sse.end();
  return { aborted };
}

/** `POST /v1/messages/count_tokens`: the same estimate the replies report. */
export function sendTokenCount(res: http.ServerResponse, conv: Conversation) {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ input_tokens: estimateTokens(conv.inputChars) }));
}
