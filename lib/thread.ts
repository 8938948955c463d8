import type { SessionEvent } from "@/lib/schemas/session";
import type { ThreadMessage, ThreadPart } from "@/lib/schemas/session-event";

/*
 * Folds a session's event log into its thread of `{info, parts}` messages. Pure and incremental:
 * the server answers GET /messages with it, and the browser folds live events into the same shape,
 * so a page that resumes from the last seq it rendered ends up with exactly the server's thread.
 */

export type Thread = {
  sessionId: string;
  model: string;
  messages: ThreadMessage[];
  lastSeq: number;
};

export function emptyThread(sessionId: string, model = ""): Thread {
  return { sessionId, model, messages: [], lastSeq: 0 };
}

type Data = Record<string, unknown>;
const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

function findMessage(thread: Thread, id: string): ThreadMessage | undefined {
  for (let i = thread.messages.length - 1; i >= 0; i--) {
    if (thread.messages[i]?.info.id === id) return thread.messages[i];
  }
  return undefined;
}

function findPart<T extends ThreadPart["type"]>(
  message: ThreadMessage,
  id: string,
  type: T,
): Extract<ThreadPart, { type: T }> | undefined {
  return message.parts.find((p) => p.id === id && p.type === type) as
    Extract<ThreadPart, { type: T }> | undefined;
}

/** Applies one event (events must come in seq order; older or repeated seqs are ignored). */
export function foldEvent(thread: Thread, event: SessionEvent): Thread {
  if (event.seq <= thread.lastSeq) return thread;
  thread.lastSeq = event.seq;
  const d = event.data as Data;
  const created = Date.parse(event.at);
  if (event.type === "user_message") {
    thread.messages.push({
      info: {
        id: str(d.message_id, `usr_${event.seq}`),
        sessionID: thread.sessionId,
        role: "user",
        time: { created },
        seq: event.seq,
      },
      parts: [
        {
          id: `prt_${event.seq}`,
          messageID: str(d.message_id, `usr_${event.seq}`),
          type: "text",
          text: str(d.text),
        },
      ],
    });
    return thread;
  }
  if (event.type === "turn_started") {
    thread.messages.push({
      info: {
        id: str(d.message_id),
        sessionID: thread.sessionId,
        role: "assistant",
        time: { created },
        modelID: thread.model,
        providerID: "hangar",
        seq: event.seq,
      },
      parts: [],
    });
    return thread;
  }
  const message = typeof d.message_id === "string" ? findMessage(thread, d.message_id) : undefined;
  if (!message) return thread;
  message.info.seq = event.seq;
  const messageID = message.info.id;
  switch (event.type) {
    case "assistant_delta":
    case "thinking_delta":
    case "assistant_text":
    case "thinking": {
      const type = event.type.startsWith("assistant") ? "text" : "reasoning";
      const id = str(d.part_id);
      let part = findPart(message, id, type);
      if (!part) {
        part = { id, messageID, type, text: "" } as Extract<ThreadPart, { type: "text" | "reasoning" }>;
        message.parts.push(part);
      }
      part.text = event.type.endsWith("_delta") ? part.text + str(d.text) : str(d.text);
      break;
    }
    case "tool_call": {
      const id = str(d.call_id);
      if (!findPart(message, id, "tool")) {
        message.parts.push({
          id,
          messageID,
          type: "tool",
          callID: id,
          tool: str(d.tool),
          state: { status: "running", input: d.input },
        });
      }
      break;
    }
    case "tool_result": {
      const id = str(d.call_id);
      let part = findPart(message, id, "tool");
      if (!part) {
        part = {
          id,
          messageID,
          type: "tool",
          callID: id,
          tool: str(d.tool),
          state: { status: "running", input: null },
        };
        message.parts.push(part);
      }
      part.state = d.is_error
        ? { status: "error", input: part.state.input, error: str(d.output) }
        : { status: "completed", input: part.state.input, output: str(d.output) };
      break;
    }
    case "permission_request":
      message.parts.push({
        id: str(d.permission_id),
        messageID,
        type: "permission",
        tool: str(d.tool),
        input: d.input,
        ...(typeof d.title === "string" && { title: d.title }),
        reply: null,
      });
      break;
    case "permission_reply": {
      const part = findPart(message, str(d.permission_id), "permission");
      if (part) part.reply = (d.reply as "once" | "always" | "reject") ?? null;
      break;
    }
    case "turn_complete": {
      const tokens = (d.tokens ?? {}) as Data;
      message.info.time.completed = created;
      message.info.finish = str(d.finish, "stop");
      message.info.cost = num(d.cost_usd);
      message.info.tokens = {
        input: num(tokens.input),
        output: num(tokens.output),
        reasoning: num(tokens.reasoning),
        cache: { read: num(tokens.cache_read), write: num(tokens.cache_write) },
      };
      break;
    }
    case "turn_error":
      message.info.time.completed = created;
      message.info.finish = "error";
      message.info.error = { message: str(d.message, "the turn failed") };
      break;
  }
  return thread;
}

export function foldEvents(thread: Thread, events: Iterable<SessionEvent>): Thread {
  for (const event of events) foldEvent(thread, event);
  return thread;
}

/** Whether an event ends the given turn (its completion or its failure). */
export function endsTurn(event: SessionEvent, turnId: string): boolean {
  return (event.type === "turn_complete" || event.type === "turn_error") && event.data.turn_id === turnId;
}
