import { findSessionEventSeq } from "@/db/queries/sessions";
import type { ManagedEvent } from "@/lib/schemas/managed-session";
import type { SessionEvent } from "@/lib/schemas/session";

/*
 * Hangar's session log as Managed Agents API events. Each log event becomes zero or more facade
 * events; their ids are derived from the log's seq (`sevt_<seq>`, then `sevt_<seq>_<n>` for the
 * second and later), so a listing and a stream name the same event alike, and an SSE client resumes
 * with Last-Event-ID = the seq. A tool call's later events (its result, a permission request, the
 * user's confirmation) refer to the tool_use event by id, found in the log when it is not in view.
 *
 *   user_message        → user.message
 *   turn_started        → session.status_running, span.model_request_start
 *   assistant_text      → agent.message          thinking → agent.thinking
 *   tool_call           → agent.tool_use, or agent.mcp_tool_use for `mcp__<server>__<tool>`
 *   tool_result         → agent.tool_result / agent.mcp_tool_result
 *   permission_request  → session.status_idle {stop_reason: requires_action, event_ids: [tool use]}
 *   permission_reply    → user.tool_confirmation, session.status_running
 *   turn_complete       → span.model_request_end (usage), session.status_idle {end_turn}
 *   turn_error          → session.error, session.status_idle {retries_exhausted}
 *   status dead/failed  → session.status_terminated; status creating (restart) → session.status_rescheduled
 */

export const eventId = (seq: number, n = 0) => (n === 0 ? `sevt_${seq}` : `sevt_${seq}_${n}`);

/** The log seq a facade event id names (`sevt_12` or `sevt_12_1` → 12), or null. */
export function seqOfEventId(id: string): number | null {
  const m = /^sevt_(\d{1,12})(?:_\d{1,3})?$/.exec(id);
  return m ? Number(m[1]) : null;
}

/** Claude Code's tool names in the Managed Agents API's spelling. */
const TOOL_NAMES: Record<string, string> = {
  Bash: "bash",
  Edit: "edit",
  Read: "read",
  Write: "write",
  Glob: "glob",
  Grep: "grep",
  WebFetch: "web_fetch",
  WebSearch: "web_search",
};

function mcpParts(tool: string): { server: string; name: string } | null {
  const m = /^mcp__([^_]+(?:_[^_]+)*?)__(.+)$/.exec(tool);
  return m ? { server: m[1] as string, name: m[2] as string } : null;
}

const text = (value: unknown) => [{ type: "text" as const, text: String(value ?? "") }];

/** Per-view memory: ids of tool uses and model request spans seen so far, to refer back to them. */
export class EventMapper {
  private readonly calls = new Map<string, number>();
  private readonly turns = new Map<string, number>();

  constructor(private readonly sessionId: string) {}

  private async seqOf(map: Map<string, number>, type: string, field: string, value: string) {
    const known = map.get(value);
    if (known !== undefined) return known;
    const found = await findSessionEventSeq(this.sessionId, type, field, value);
    if (found !== null) map.set(value, found);
    return found;
  }

  async map(event: SessionEvent): Promise<ManagedEvent[]> {
    const d = event.data;
    const at = event.at;
    const out: Record<string, unknown>[] = [];
    const add = (type: string, fields: Record<string, unknown> = {}) => out.push({ type, ...fields });
    switch (event.type) {
      case "user_message":
        add("user.message", { content: text(d.text) });
        break;
      case "turn_started":
        this.turns.set(String(d.turn_id), event.seq);
        add("session.status_running");
        add("span.model_request_start");
        break;
      case "assistant_text":
        add("agent.message", { content: text(d.text) });
        break;
      case "thinking":
        add("agent.thinking");
        break;
      case "tool_call": {
        this.calls.set(String(d.call_id), event.seq);
        const tool = String(d.tool);
        const mcp = mcpParts(tool);
        const input = d.input && typeof d.input === "object" ? d.input : { value: d.input };
        if (mcp) add("agent.mcp_tool_use", { name: mcp.name, mcp_server_name: mcp.server, input });
        else add("agent.tool_use", { name: TOOL_NAMES[tool] ?? tool, input });
        break;
      }
      case "tool_result": {
        const use = await this.seqOf(this.calls, "tool_call", "call_id", String(d.call_id));
        const useId = use === null ? `sevt_call_${String(d.call_id)}` : eventId(use);
        const fields = { content: text(d.output), is_error: Boolean(d.is_error) };
        if (mcpParts(String(d.tool))) add("agent.mcp_tool_result", { mcp_tool_use_id: useId, ...fields });
        else add("agent.tool_result", { tool_use_id: useId, ...fields });
        break;
      }
      case "permission_request": {
        const use = await this.seqOf(this.calls, "tool_call", "call_id", String(d.permission_id));
        if (use === null) {
          // A harness that asks without announcing the call first: the request stands for it.
          add("agent.tool_use", { name: TOOL_NAMES[String(d.tool)] ?? d.tool, input: d.input ?? {} });
        }
        add("session.status_idle", {
          stop_reason: {
            type: "requires_action",
            event_ids: [use === null ? eventId(event.seq) : eventId(use)],
          },
          stop_details: null,
        });
        break;
      }
      case "permission_reply": {
        const use = await this.seqOf(this.calls, "tool_call", "call_id", String(d.permission_id));
        add("user.tool_confirmation", {
          tool_use_id: use === null ? `sevt_call_${String(d.permission_id)}` : eventId(use),
          result: d.reply === "reject" ? "deny" : "allow",
        });
        add("session.status_running");
        break;
      }
      case "turn_complete": {
        const start = await this.seqOf(this.turns, "turn_started", "turn_id", String(d.turn_id));
        const tokens = (d.tokens ?? {}) as Record<string, number | undefined>;
        add("span.model_request_end", {
          model_request_start_id: start === null ? null : eventId(start, 1),
          is_error: false,
          model_usage: {
            input_tokens: tokens.input ?? 0,
            output_tokens: tokens.output ?? 0,
            cache_read_input_tokens: tokens.cache_read ?? 0,
            cache_creation_input_tokens: tokens.cache_write ?? 0,
          },
        });
        add("session.status_idle", { stop_reason: { type: "end_turn" }, stop_details: null });
        break;
      }
      case "turn_error":
        add("session.error", {
          error: {
            type: "unknown_error",
            message: String(d.message ?? "the turn failed"),
            retry_status: { type: "exhausted" },
          },
        });
        add("session.status_idle", { stop_reason: { type: "retries_exhausted" }, stop_details: null });
        break;
      case "status":
        if (d.status === "dead" || d.status === "failed") add("session.status_terminated");
        else if (d.status === "creating") add("session.status_rescheduled");
        break;
      default:
        break;
    }
    return out.map(
      (fields, n) => ({ id: eventId(event.seq, n), processed_at: at, ...fields }) as ManagedEvent,
    );
  }
}

/** Whether a facade event ends what a client waits for: the agent is idle or the session is over. */
export function endsWait(event: ManagedEvent): boolean {
  return event.type === "session.status_idle" || event.type === "session.status_terminated";
}
