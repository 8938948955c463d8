import type { TokenUsage, TurnEvent } from "@/lib/schemas/session-event";

import type { PermissionReply, TurnSummary } from "../turn";
import type { MessageInfo, OpencodeError, OpencodeEvent, Part, ToolState } from "./wire";

function describeError(error: OpencodeError): string {
  const message = error.data?.message ?? error.name ?? "unknown error";
  if (error.name === "APIError" && error.data?.statusCode)
    return `The model API answered ${error.data.statusCode}: ${message}`;
  if (error.name === "ProviderAuthError")
    return `The model endpoint refused opencode's credentials: ${message}`;
  return message;
}

export type Outcome = Pick<TurnSummary, "finish" | "error">;

function outcomeOfError(error: OpencodeError): Outcome {
  if (error.name === "MessageAbortedError") return { finish: "aborted" };
  if (error.name === "MessageOutputLengthError") return { finish: "length" };
  return { finish: "error", error: describeError(error) };
}

function outcomeOfFinish(finish: string | undefined): Outcome {
  switch (finish) {
    case "length":
      return { finish: "length" };
    case "tool-calls":
      return { finish: "tool_use" };
    case "content-filter":
      return { finish: "error", error: "The model's content filter stopped the reply." };
    case "error":
      return { finish: "error", error: "The model stopped with an error." };
    default:
      return { finish: "stop" };
  }
}

/**
 * Maps one turn's opencode events onto TurnEvents. `roles` holds every message id the adapter has
 * seen (its role); ids seen in earlier turns are in `past`, so late events of an earlier turn (an
 * aborted reply settles after session.idle) never leak into this one.
 */
export class TurnMapper {
  /** The session went busy (or failed) after the prompt: an idle from now on ends the turn. */
  started = false;
  sessionError: OpencodeError | null = null;
  lastActivity = Date.now();
  private readonly assistants = new Map<string, MessageInfo>();
  private readonly partKinds = new Map<string, "text" | "reasoning">();
  private readonly streamed = new Map<string, string>();
  private readonly settled = new Set<string>();
  private readonly called = new Set<string>();
  private readonly answered = new Set<string>();
  private readonly toolNames = new Map<string, string>();
  private readonly children = new Set<string>();

  constructor(
    private readonly sessionId: string,
    private readonly emit: (event: TurnEvent) => Promise<void>,
    private readonly roles: Map<string, MessageInfo["role"]>,
    private readonly past: ReadonlySet<string>,
  ) {}

  /** Handles one event; true when it ends the turn. */
  async handle(event: OpencodeEvent): Promise<boolean> {
    const p = event.properties ?? {};
    if (p.sessionID !== this.sessionId) {
      // Subagents (the task tool) run in child sessions: their permission prompts block this turn.
      const child = typeof p.sessionID === "string" ? p.sessionID : null;
      if (!child) return false;
      if (event.type === "session.created" && (p.info as { parentID?: string }).parentID === this.sessionId)
        this.children.add(child);
      if (!this.children.has(child) || !event.type.startsWith("permission.")) return false;
    }
    this.lastActivity = Date.now();
    switch (event.type) {
      case "message.updated":
        this.onMessage(p.info as MessageInfo);
        return false;
      case "message.part.updated":
        await this.onPart(p.part as Part);
        return false;
      case "message.part.delta":
        await this.onDelta(p as { messageID: string; partID: string; field: string; delta: string });
        return false;
      case "permission.asked": {
        const asked = p as { id: string; permission: string; patterns?: string[]; metadata?: unknown };
        await this.emit({
          type: "permission_request",
          permission_id: asked.id,
          tool: asked.permission,
          input: asked.metadata ?? {},
          ...(asked.patterns?.length ? { title: asked.patterns.join("\n") } : {}),
        });
        return false;
      }
      case "permission.replied": {
        const replied = p as { requestID: string; reply: PermissionReply };
        await this.emit({ type: "permission_reply", permission_id: replied.requestID, reply: replied.reply });
        return false;
      }
      case "session.error":
        this.sessionError = (p.error as OpencodeError | undefined) ?? { name: "UnknownError" };
        this.started = true;
        return false;
      case "session.status": {
        const status = (p.status as { type?: string } | undefined)?.type;
        if (status === "idle") return this.started;
        this.started = true;
        return false;
      }
      case "session.idle":
        return this.started;
      default:
        return false;
    }
  }

  private onMessage(info: MessageInfo) {
    if (this.past.has(info.id)) return;
    this.roles.set(info.id, info.role);
    this.started = true;
    if (info.role === "assistant") this.assistants.set(info.id, info);
  }

  /** opencode echoes the user's message as parts too: only assistant parts of this turn count. */
  private isAssistantPart(messageId: string): boolean {
    return !this.past.has(messageId) && this.roles.get(messageId) === "assistant";
  }

  private async onPart(part: Part) {
    if (!this.isAssistantPart(part.messageID)) return;
    if (part.type === "text" || part.type === "reasoning") {
      if (part.type === "text" && (part.synthetic || part.ignored)) return;
      this.partKinds.set(part.id, part.type);
      if (part.time?.end !== undefined) await this.settle(part.id, part.type, part.text);
    } else if (part.type === "tool") {
      await this.onTool(part.callID, part.tool, part.state);
    }
  }

  private async settle(partId: string, kind: "text" | "reasoning", text: string) {
    if (this.settled.has(partId)) return;
    this.settled.add(partId);
    if (text === "") return;
    await this.emit({ type: kind === "text" ? "assistant_text" : "thinking", part_id: partId, text });
  }

  private async onDelta(delta: { messageID: string; partID: string; field: string; delta: string }) {
    if (delta.field !== "text" || !this.isAssistantPart(delta.messageID)) return;
    const kind = this.partKinds.get(delta.partID);
    if (!kind || this.settled.has(delta.partID) || delta.delta === "") return;
    this.streamed.set(delta.partID, (this.streamed.get(delta.partID) ?? "") + delta.delta);
    await this.emit({
      type: kind === "text" ? "assistant_delta" : "thinking_delta",
      part_id: delta.partID,
      text: delta.delta,
    });
  }

  /** A pending tool's input is still streaming ({}), so the call is announced once it runs. */
  private async onTool(callId: string, tool: string, state: ToolState) {
    if (state.status === "pending") return;
    this.toolNames.set(callId, tool);
    if (!this.called.has(callId)) {
      this.called.add(callId);
      await this.emit({ type: "tool_call", call_id: callId, tool, input: state.input });
    }
    if (this.answered.has(callId)) return;
    if (state.status === "completed") {
      this.answered.add(callId);
      await this.emit({ type: "tool_result", call_id: callId, tool, output: state.output, is_error: false });
    } else if (state.status === "error") {
      this.answered.add(callId);
      await this.emit({ type: "tool_result", call_id: callId, tool, output: state.error, is_error: true });
    }
  }

  /** Settles what a cut-off turn left open: streamed text becomes its final part, open tools fail. */
  async flush() {
    for (const [partId, text] of this.streamed) {
      await this.settle(partId, this.partKinds.get(partId) ?? "text", text);
    }
    for (const callId of this.called) {
      if (this.answered.has(callId)) continue;
      this.answered.add(callId);
      await this.emit({
        type: "tool_result",
        call_id: callId,
        tool: this.toolNames.get(callId) ?? "unknown",
        output: "The turn ended before the tool finished.",
        is_error: true,
      });
    }
  }

  /** Replays the turn from GET /session/{id}/message: the messages after the last user prompt. */
  async replay(history: { info: MessageInfo; parts: Part[] }[]) {
    const lastPrompt = history.findLastIndex((m) => m.info.role === "user");
    for (const message of history.slice(lastPrompt + 1)) {
      this.onMessage(message.info);
      for (const part of message.parts) await this.onPart(part);
    }
  }

  tokens(): TokenUsage {
    const sum: Required<TokenUsage> = { input: 0, output: 0, reasoning: 0, cache_read: 0, cache_write: 0 };
    for (const { tokens } of this.assistants.values()) {
      if (!tokens) continue;
      sum.input += tokens.input;
      sum.output += tokens.output;
      sum.reasoning += tokens.reasoning;
      sum.cache_read += tokens.cache.read;
      sum.cache_write += tokens.cache.write;
    }
    return sum;
  }

  cost(): number | null {
    if (this.assistants.size === 0) return null;
    return [...this.assistants.values()].reduce((total, info) => total + (info.cost ?? 0), 0);
  }

  outcome(): Outcome {
    if (this.sessionError) return outcomeOfError(this.sessionError);
    const last = [...this.assistants.values()].at(-1);
    if (!last) return { finish: "error", error: "opencode ended the turn without an answer." };
    if (last.error) return outcomeOfError(last.error);
    return outcomeOfFinish(last.finish);
  }
}
