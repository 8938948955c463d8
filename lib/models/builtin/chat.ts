import type http from "node:http";

import { z } from "zod";

import { buildConversation, textOf, type FlatMessage } from "./conversation";
import { BuiltinModelError } from "./errors";
import { newId } from "./ids";
import { estimateTokens, outputChars, splitChunks, splitEvenly, SseWriter } from "./sse";
import { toSchema } from "./tools";
import type { Conversation, ReplyPlan, ToolSpec } from "./types";

/*
 * OpenAI chat completions (`POST /v1/chat/completions`), as opencode's `@ai-sdk/openai-compatible`
 * provider calls it: streaming with `stream_options.include_usage`, tools as `{type:"function"}`.
 * Thinking goes out as `reasoning_content`, the field OpenAI-compatible servers use for it.
 */

const requestSchema = z.looseObject({
  model: z.string(),
  messages: z.array(
    z.looseObject({
      role: z.string(),
      content: z.unknown().optional(),
      tool_call_id: z.string().optional(),
    }),
  ),
  tools: z
    .array(
      z.looseObject({
        type: z.string().optional(),
        function: z.looseObject({
          name: z.string(),
          description: z.string().optional(),
          parameters: z.unknown().optional(),
        }),
      }),
    )
    .optional(),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});

type ChatRequest = z.infer<typeof requestSchema>;

function flatten(message: ChatRequest["messages"][number]): FlatMessage {
  const text = textOf(message.content);
  if (message.role === "tool" || message.role === "function") return { role: "tool", output: text };
  if (message.role === "user") return { role: "user", text };
  if (message.role === "assistant") return { role: "assistant", text };
  return { role: "system", text };
}

function tools(request: ChatRequest): ToolSpec[] {
  return (request.tools ?? []).map((t) => ({
    name: t.function.name,
    kind: "function",
    description: t.function.description ?? "",
    schema: toSchema(t.function.parameters),
  }));
}

export function parseChatRequest(body: unknown): { conv: Conversation; includeUsage: boolean } {
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success) {
    throw new BuiltinModelError(400, `invalid chat completions request: ${parsed.error.issues[0]?.message}`);
  }
  const request = parsed.data;
  const conv = buildConversation({
    model: request.model,
    stream: request.stream ?? false,
    system: [],
    messages: request.messages.map(flatten),
    tools: tools(request),
  });
  return { conv, includeUsage: request.stream_options?.include_usage ?? false };
}

export async function sendChatReply(
  res: http.ServerResponse,
  conv: Conversation,
  plan: ReplyPlan,
  includeUsage: boolean,
): Promise<{ aborted: boolean }> {
  const id = newId("chatcmpl-");
  const created = Math.floor(Date.now() / 1000);
  const prompt = estimateTokens(conv.inputChars);
  const completion = estimateTokens(outputChars(plan));
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  const finish = plan.toolCall ? "tool_calls" : "stop";
  const call = plan.toolCall && {
    id: newId("call_"),
    type: "function" as const,
    function: {
      name: plan.toolCall.tool.name,
      arguments:
        typeof plan.toolCall.input === "string" ? plan.toolCall.input : JSON.stringify(plan.toolCall.input),
    },
  };
  if (!conv.stream) {
    const message = {
      role: "assistant",
      content: plan.text,
      ...(plan.thinking ? { reasoning_content: plan.thinking } : {}),
      ...(call ? { tool_calls: [call] } : {}),
    };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id,
        object: "chat.completion",
        created,
        model: conv.model,
        choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
        usage,
      }),
    );
    return { aborted: false };
  }
  const sse = new SseWriter(res, plan.delayMs);
  const chunk = (delta: object, finishReason: string | null = null) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model: conv.model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
  });
  sse.send(null, chunk({ role: "assistant", content: "" }));
  for (const piece of splitChunks(plan.thinking ?? ""))
    await sse.delta(null, chunk({ reasoning_content: piece }));
  for (const piece of splitChunks(plan.text ?? "")) await sse.delta(null, chunk({ content: piece }));
  if (call) {
    sse.send(
      null,
      chunk({ tool_calls: [{ index: 0, ...call, function: { name: call.function.name, arguments: "" } }] }),
    );
    for (const piece of splitEvenly(call.function.arguments)) {
      await sse.delta(null, chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    }
  }
  sse.send(null, chunk({}, finish));
  if (includeUsage) sse.send(null, { ...chunk({}), choices: [], usage });
  sse.send(null, "[DONE]");
  const aborted = sse.aborted;
  sse.end();
  return { aborted };
}
