import type {
  NonNullableUsage,
  SDKAssistantMessage,
  SDKMessage,
  SDKPartialAssistantMessage,
  SDKResultMessage,
  SDKUserMessage,
} from "@anthropic-ai/claude-agent-sdk";

import type { TokenUsage, TurnEvent } from "@/lib/schemas/session-event";

import type { TurnSummary } from "../turn";

// Model tokens reach the CLI only through the sandbox's environment, but the CLI or the gateway may
// echo one back in an error; none of these ever reach an event or a summary.
const SECRETS = [
  /\b((?:ANTHROPIC_AUTH_TOKEN|ANTHROPIC_API_KEY|LITELLM_API_KEY)\s*[=:]\s*)\S+/g,
  /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  /\b(x-api-key\s*[=:]\s*)\S+/gi,
  /()\bsk-[A-Za-z0-9_-]{8,}/g,
];

export function redact(text: string): string {
  return SECRETS.reduce((out, pattern) => out.replace(pattern, "$1[redacted]"), text);
}

/** Runs `emit` calls one after another, so callbacks and the message loop keep one order. */
export class EventQueue {
  private tail: Promise<void> = Promise.resolve();
  failure: unknown = null;

  constructor(private readonly emit: (event: TurnEvent) => Promise<void>) {}

  push(event: TurnEvent): Promise<void> {
    const next = this.tail.then(() => (this.failure ? undefined : this.emit(event)));
    this.tail = next.catch((err: unknown) => {
      this.failure ??= err;
    });
    return next;
  }
}

function toolOutput(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return content === undefined ? "" : JSON.stringify(content);
  return content
    .map((block: { type?: string; text?: string }) =>
      block.type === "text" ? (block.text ?? "") : block.type === "image" ? "[image]" : JSON.stringify(block),
    )
    .join("\n");
}

/**
 * Maps SDK messages onto TurnEvents. Part ids are `<assistant message id>:<content block index>`,
 * the same for a block's deltas and its final text. While streaming, the CLI sends one assistant
 * message per finished block (all with the message's id and a one-block `content`), in block order,
 * so the n-th block seen for an id is stream index n.
 */
export class EventMapper {
  private streamMessageId: string | null = null;
  private readonly blocksSeen = new Map<string, number>();
  private readonly announced = new Set<string>();

  constructor(
    private readonly events: EventQueue,
    private readonly toolNames: Map<string, string>,
  ) {}

  async map(message: SDKMessage): Promise<void> {
    // A subagent's own messages (Task tool) stay inside its tool call; its result is the tool_result.
    if ("parent_tool_use_id" in message && message.parent_tool_use_id) return;
    if (message.type === "stream_event") return this.streamEvent(message);
    if (message.type === "assistant") return this.assistant(message);
    if (message.type === "user") return this.toolResults(message);
  }

  /** Emits a tool_call once, whether the assistant message or a permission prompt comes first. */
  async announceCall(callId: string, tool: string, input: unknown): Promise<void> {
    if (this.announced.has(callId)) return;
    this.announced.add(callId);
    this.toolNames.set(callId, tool);
    await this.events.push({ type: "tool_call", call_id: callId, tool, input });
  }

  private async streamEvent(message: SDKPartialAssistantMessage) {
    const event = message.event;
    if (event.type === "message_start") {
      this.streamMessageId = event.message.id;
      return;
    }
    if (event.type !== "content_block_delta" || !this.streamMessageId) return;
    const partId = `${this.streamMessageId}:${event.index}`;
    if (event.delta.type === "text_delta")
      await this.events.push({ type: "assistant_delta", part_id: partId, text: event.delta.text });
    else if (event.delta.type === "thinking_delta")
      await this.events.push({ type: "thinking_delta", part_id: partId, text: event.delta.thinking });
  }

  private async assistant(message: SDKAssistantMessage) {
    // An API failure comes as a synthetic message holding the error text; the summary reports it.
    if (message.error && message.message.model === "<synthetic>") return;
    const id = message.message.id;
    for (const block of message.message.content) {
      const index = this.blocksSeen.get(id) ?? 0;
      this.blocksSeen.set(id, index + 1);
      const partId = `${id}:${index}`;
      if (block.type === "text")
        await this.events.push({ type: "assistant_text", part_id: partId, text: block.text });
      else if (block.type === "thinking")
        await this.events.push({ type: "thinking", part_id: partId, text: block.thinking });
      else if (block.type === "tool_use") await this.announceCall(block.id, block.name, block.input);
    }
  }

  private async toolResults(message: SDKUserMessage) {
    const content = message.message.content;
    if (typeof content === "string") return;
    for (const block of content) {
      if (block.type !== "tool_result") continue;
      await this.events.push({
        type: "tool_result",
        call_id: block.tool_use_id,
        tool: this.toolNames.get(block.tool_use_id) ?? "unknown",
        output: toolOutput(block.content),
        is_error: block.is_error === true,
      });
    }
  }
}

function tokensOf(usage: NonNullableUsage | undefined): TokenUsage {
  if (!usage) return { input: 0, output: 0 };
  const thinking = (usage as { output_tokens_details?: { thinking_tokens?: number } }).output_tokens_details
    ?.thinking_tokens;
  return {
    input: usage.input_tokens,
    output: usage.output_tokens,
    ...(thinking ? { reasoning: thinking } : {}),
    cache_read: usage.cache_read_input_tokens,
    cache_write: usage.cache_creation_input_tokens,
  };
}

/**
 * `total_cost_usd` runs on across resumes (a resumed session starts from the total its transcript
 * saved). The CLI also reports this result's own spend per model, which is what a turn costs.
 */
function turnCost(result: SDKResultMessage, previousTotal: number | null): number | null {
  const own = (result as { model_usage_since_last_result?: Record<string, { costUSD?: number }> })
    .model_usage_since_last_result;
  if (own) return Object.values(own).reduce((sum, usage) => sum + (usage.costUSD ?? 0), 0);
  return previousTotal === null ? null : Math.max(0, result.total_cost_usd - previousTotal);
}

function finishOf(result: SDKResultMessage): Pick<TurnSummary, "finish" | "error"> {
  switch (result.subtype) {
    case "success":
      if (result.is_error)
        return { finish: "error", error: `Claude Code got no reply from the model: ${result.result}` };
      if (result.stop_reason === "max_tokens") return { finish: "length" };
      if (result.stop_reason === "tool_use") return { finish: "tool_use" };
      return { finish: "stop" };
    case "error_max_turns":
      return { finish: "length" };
    case "error_max_budget_usd":
      return { finish: "error", error: "The turn stopped at its cost budget." };
    default:
      return {
        finish: "error",
        error: `Claude Code stopped during the turn: ${result.errors.join("; ") || result.subtype}`,
      };
  }
}

export function summaryOf(
  result: SDKResultMessage,
  previousTotal: number | null,
  sessionId: string | null,
): TurnSummary {
  const { finish, error } = finishOf(result);
  return {
    finish,
    tokens: tokensOf(result.usage),
    cost_usd: turnCost(result, previousTotal),
    ...(error ? { error: redact(error) } : {}),
    harnessSessionId: result.session_id || sessionId,
  };
}
