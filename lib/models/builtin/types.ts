/* Shapes shared by the wire formats, the script interpreter and the request log. */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The wire formats the built-in model answers; `count_tokens` is Anthropic's token counting route. */
export type BuiltinApi = "chat" | "responses" | "messages" | "count_tokens" | "models" | "unknown";

/** Error bodies follow one of two families: Anthropic's or OpenAI's. */
export type ApiFamily = "anthropic" | "openai";

/** A JSON Schema as harnesses declare tool inputs; only the parts the built-in model reads. */
export type JsonSchema = {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: Json[];
  default?: Json;
  minimum?: number;
  items?: JsonSchema;
};

/**
 * A tool the request declares. `function` tools take JSON arguments, `custom` (freeform) tools take
 * a string (Codex's apply_patch), `local_shell` is the Responses built-in shell.
 */
export type ToolSpec = {
  name: string;
  kind: "function" | "custom" | "local_shell";
  description: string;
  schema: JsonSchema;
};

/** A request reduced to what the script needs, whatever the wire format. */
export type Conversation = {
  model: string;
  stream: boolean;
  /** The system prompt plus harness context injected into user turns (reminders, AGENTS.md). */
  system: string;
  /** Text of the last user message that is a prompt (not a tool result), harness context removed. */
  userText: string;
  /** How many user prompts came before that one: tells identical prompts of one conversation apart. */
  promptIndex: number;
  /** Outputs of the tool results that follow the last prompt, in order. */
  toolResults: string[];
  tools: ToolSpec[];
  /** The harness's working directory, when its prompt states one. */
  cwd: string | null;
  /** Characters of text the request carries, for the token estimate. */
  inputChars: number;
};

export type ToolCall = {
  tool: ToolSpec;
  /** JSON arguments for function tools, the raw input for custom tools. */
  input: JsonObject | string;
};

export type ReplyPlan = {
  kind: "reply";
  thinking: string | null;
  text: string | null;
  toolCall: ToolCall | null;
  /** Pause between streamed chunks (SLOW:). */
  delayMs: number;
};

/** What the built-in model answers to one request. */
export type Plan = { kind: "error"; status: number; message: string } | ReplyPlan;

export type BuiltinReply =
  | { kind: "text"; text: string; thinking: string | null }
  | { kind: "tool"; tool: string; input: JsonObject | string; thinking: string | null }
  | { kind: "error"; status: number; message: string };

/** One entry of the request log. */
export type BuiltinRequest = {
  id: number;
  time: string;
  session: string | null;
  api: BuiltinApi;
  method: string;
  path: string;
  model: string | null;
  stream: boolean;
  system: string;
  userText: string;
  tools: string[];
  /** Directive names found in the user text, in order (`RUN`, `WRITE`, …); empty for a plain prompt. */
  directives: string[];
  /** What the built-in model answered, null for listings and unrouted requests. */
  reply: BuiltinReply | null;
  status: number;
  /** The client went away before the reply was complete. */
  aborted: boolean;
  durationMs: number | null;
  userAgent: string | null;
};
