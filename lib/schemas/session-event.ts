import { z } from "zod";

/*
 * The typed events of a session's log (DESIGN.md "Sessions and events"). Every stream Hangar serves is
 * a view of this log: `{seq, type, data, at}` with `data` shaped by `type`. Harness adapters map their
 * native output onto the conversation events; the lifecycle events come from the launcher.
 */

const id = z.string().min(1).max(200);

export const tokenUsageSchema = z.object({
  input: z.number().int().min(0),
  output: z.number().int().min(0),
  reasoning: z.number().int().min(0).optional(),
  cache_read: z.number().int().min(0).optional(),
  cache_write: z.number().int().min(0).optional(),
});

/** Conversation events, as adapters emit them (the messaging layer adds the turn's ids). */
export const turnEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("assistant_delta"), part_id: id, text: z.string() }),
  z.object({ type: z.literal("assistant_text"), part_id: id, text: z.string() }),
  z.object({ type: z.literal("thinking_delta"), part_id: id, text: z.string() }),
  z.object({ type: z.literal("thinking"), part_id: id, text: z.string() }),
  z.object({ type: z.literal("tool_call"), call_id: id, tool: z.string(), input: z.unknown() }),
  z.object({
    type: z.literal("tool_result"),
    call_id: id,
    tool: z.string(),
    output: z.string(),
    is_error: z.boolean(),
  }),
  z.object({
    type: z.literal("permission_request"),
    permission_id: id,
    tool: z.string(),
    input: z.unknown(),
    title: z.string().optional(),
  }),
  z.object({
    type: z.literal("permission_reply"),
    permission_id: id,
    reply: z.enum(["once", "always", "reject"]),
  }),
]);

export type TurnEvent = z.infer<typeof turnEventSchema>;
export type TokenUsage = z.infer<typeof tokenUsageSchema>;

/** Every event type of the log, with the data each carries. */
export const SESSION_EVENT_TYPES = [
  // lifecycle
  "created",
  "phase",
  "status",
  "recovered",
  "terminal",
  "egress_denied",
  // conversation
  "user_message",
  "turn_started",
  "assistant_delta",
  "assistant_text",
  "thinking_delta",
  "thinking",
  "tool_call",
  "tool_result",
  "permission_request",
  "permission_reply",
  "turn_complete",
  "turn_error",
  "stalled",
] as const;

export type SessionEventType = (typeof SESSION_EVENT_TYPES)[number];

/** The `data` of `turn_complete`. */
export const turnCompleteSchema = z.object({
  turn_id: id,
  message_id: id,
  finish: z.enum(["stop", "tool_use", "length", "aborted", "error"]),
  tokens: tokenUsageSchema,
  cost_usd: z.number().nullable(),
  duration_ms: z.number().int().min(0),
});

export type TurnComplete = z.infer<typeof turnCompleteSchema>;

/** POST /sessions/{id}/message and /message_stream: `text`, or opencode-style `parts` of type text. */
export const sendMessageSchema = z
  .object({
    text: z
      .string()
      .max(256 * 1024)
      .optional(),
    parts: z
      .array(z.object({ type: z.literal("text"), text: z.string().max(256 * 1024) }))
      .max(50)
      .optional(),
  })
  .refine((body) => Boolean(body.text?.trim()) || (body.parts ?? []).some((p) => p.text.trim()), {
    message: "send `text` or `parts` with some text",
  });

export type SendMessageInput = z.infer<typeof sendMessageSchema>;

export function messageText(input: SendMessageInput): string {
  return input.text?.trim() ? input.text : (input.parts ?? []).map((p) => p.text).join("\n");
}

/** GET /sessions/{id}/events and /stream: where to resume, and whether to stay open across turns. */
export const streamQuerySchema = z.object({
  after: z.coerce.number().int().min(0).optional(),
  follow: z.enum(["0", "1", "true", "false"]).optional(),
});

export const permissionParamsSchema = z.object({
  id: z.string().min(1).max(64),
  pid: z.string().min(1).max(200),
});

/** POST /sessions/{id}/permissions/{pid}; `response` is accepted as opencode's name for it. */
export const permissionReplySchema = z
  .object({
    reply: z.enum(["once", "always", "reject"]).optional(),
    response: z.enum(["once", "always", "reject"]).optional(),
  })
  .refine((b) => b.reply ?? b.response, { message: "reply must be once, always or reject" });

/** A message of the thread in the reference product's (opencode's) `{info, parts}` shape. */
export const threadPartSchema = z.discriminatedUnion("type", [
  z.object({ id: z.string(), messageID: z.string(), type: z.literal("text"), text: z.string() }),
  z.object({ id: z.string(), messageID: z.string(), type: z.literal("reasoning"), text: z.string() }),
  z.object({
    id: z.string(),
    messageID: z.string(),
    type: z.literal("tool"),
    callID: z.string(),
    tool: z.string(),
    state: z.object({
      status: z.enum(["running", "completed", "error"]),
      input: z.unknown(),
      output: z.string().optional(),
      error: z.string().optional(),
    }),
  }),
  z.object({
    id: z.string(),
    messageID: z.string(),
    type: z.literal("permission"),
    tool: z.string(),
    input: z.unknown(),
    title: z.string().optional(),
    reply: z.enum(["once", "always", "reject"]).nullable(),
  }),
]);

export const threadMessageSchema = z.object({
  info: z.object({
    id: z.string(),
    sessionID: z.string(),
    role: z.enum(["user", "assistant"]),
    time: z.object({ created: z.number(), completed: z.number().optional() }),
    modelID: z.string().optional(),
    providerID: z.string().optional(),
    tokens: z
      .object({
        input: z.number(),
        output: z.number(),
        reasoning: z.number(),
        cache: z.object({ read: z.number(), write: z.number() }),
      })
      .optional(),
    cost: z.number().optional(),
    finish: z.string().optional(),
    error: z.object({ message: z.string() }).optional(),
    /** Hangar: the seq of the last event folded into this message (resume a stream after it). */
    seq: z.number().int(),
  }),
  parts: z.array(threadPartSchema),
});

export const threadSchema = z.object({ data: z.array(threadMessageSchema), last_seq: z.number().int() });

export type ThreadPart = z.infer<typeof threadPartSchema>;
export type ThreadMessage = z.infer<typeof threadMessageSchema>;

/** GET /sessions/{id}/messages: the thread as a bare array, as the reference product returns it. */
export const threadListSchema = z.array(threadMessageSchema);

/** POST /sessions/{id}/abort. */
export const abortResultSchema = z.object({ ok: z.literal(true), aborted: z.boolean() });

/** POST /sessions/{id}/permissions/{pid}. */
export const okResultSchema = z.object({ ok: z.literal(true) });

/** /sessions/{id}/opencode/{path}: the session and any path of the opencode server API. */
export const opencodeProxyParamsSchema = z.object({ id: z.string().min(1).max(64), path: z.string() });
