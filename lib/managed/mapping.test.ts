import { describe, expect, it } from "vitest";

import type { SessionEvent } from "@/lib/schemas/session";

import { normalizeConfig, NOTHING_ALLOWED, PACKAGE_HOSTS, sessionSettings } from "./environments";
import { EventMapper, seqOfEventId } from "./events";
import { harnessPermissions, normalizeTools } from "./tools";

const at = "2026-12-04T00:00:00.000Z";
const ev = (seq: number, type: string, data: Record<string, unknown> = {}): SessionEvent => ({
  seq,
  type,
  data,
  at,
});

describe("the Managed Agents API's mappings", () => {
  it("environments: limited networking is an allow-list that is never empty, pip is requirements", () => {
    const limited = normalizeConfig({
      type: "cloud",
      networking: {
        type: "limited",
        allowed_hosts: ["api.github.com"],
        allow_package_managers: true,
        allow_mcp_servers: true,
      },
      packages: { pip: ["requests==2.32.3"] },
    });
    expect(sessionSettings(limited, ["https://mcp.example.com/sse", "github"])).toEqual({
      allowOut: ["api.github.com", ...PACKAGE_HOSTS, "mcp.example.com"],
      requirements: "requests==2.32.3",
    });
    const closed = normalizeConfig({ type: "cloud", networking: { type: "limited" } });
    expect(sessionSettings(closed, [])).toEqual({ allowOut: [NOTHING_ALLOWED], requirements: null });
    expect(sessionSettings(normalizeConfig(undefined), []).allowOut).toBeNull();
    expect(() => normalizeConfig({ type: "self_hosted" })).toThrow(/self_hosted/);
  });

  it("toolsets: defaults filled in; disabled tools are disallowed and always_ask ones ask", () => {
    const tools = normalizeTools(
      [
        {
          type: "agent_toolset_20260401",
          default_config: { permission_policy: { type: "always_ask" } },
          configs: [
            { name: "read", permission_policy: { type: "always_allow" } },
            { name: "web_search", enabled: false },
          ],
        },
        { type: "mcp_toolset", mcp_server_name: "docs" },
      ],
      ["docs"],
    );
    expect(harnessPermissions(tools)).toEqual({
      ask: ["Bash", "Edit", "Write", "Glob", "Grep", "WebFetch", "mcp__docs__*"],
      disabled: ["WebSearch"],
    });
    expect(() => normalizeTools([{ type: "mcp_toolset", mcp_server_name: "nope" }], [])).toThrow(
      /no MCP server/,
    );
  });

  it("events: one log event becomes facade events whose ids come from its seq", async () => {
    const mapper = new EventMapper("sess_x");
    const out = [];
    for (const event of [
      ev(1, "user_message", { text: "hi" }),
      ev(2, "turn_started", { turn_id: "turn_1" }),
      ev(3, "tool_call", { call_id: "toolu_1", tool: "Bash", input: { command: "ls" } }),
      ev(4, "permission_request", { permission_id: "toolu_1", tool: "Bash", input: {} }),
      ev(5, "permission_reply", { permission_id: "toolu_1", reply: "once" }),
      ev(6, "tool_result", { call_id: "toolu_1", tool: "Bash", output: "a.txt", is_error: false }),
      ev(7, "tool_call", { call_id: "toolu_2", tool: "mcp__docs__search", input: { q: "x" } }),
      ev(8, "assistant_text", { text: "done" }),
      ev(9, "turn_complete", { turn_id: "turn_1", tokens: { input: 3, output: 4 } }),
      ev(10, "phase", { phase: "ready" }),
    ])
      out.push(...(await mapper.map(event)));
    expect(out.map((e) => [e.id, e.type])).toEqual([
      ["sevt_1", "user.message"],
      ["sevt_2", "session.status_running"],
      ["sevt_2_1", "span.model_request_start"],
      ["sevt_3", "agent.tool_use"],
      ["sevt_4", "session.status_idle"],
      ["sevt_5", "user.tool_confirmation"],
      ["sevt_5_1", "session.status_running"],
      ["sevt_6", "agent.tool_result"],
      ["sevt_7", "agent.mcp_tool_use"],
      ["sevt_8", "agent.message"],
      ["sevt_9", "span.model_request_end"],
      ["sevt_9_1", "session.status_idle"],
    ]);
    expect(out[3]).toMatchObject({ name: "bash", input: { command: "ls" } });
    expect(out[4]).toMatchObject({ stop_reason: { type: "requires_action", event_ids: ["sevt_3"] } });
    expect(out[5]).toMatchObject({ tool_use_id: "sevt_3", result: "allow" });
    expect(out[7]).toMatchObject({ tool_use_id: "sevt_3", content: [{ type: "text", text: "a.txt" }] });
    expect(out[8]).toMatchObject({ name: "search", mcp_server_name: "docs" });
    expect(out[10]).toMatchObject({
      model_request_start_id: "sevt_2_1",
      model_usage: { input_tokens: 3, output_tokens: 4 },
    });
    expect(out.every((e) => e.processed_at === at)).toBe(true);
    expect([seqOfEventId("sevt_12"), seqOfEventId("sevt_12_1"), seqOfEventId("evt_1")]).toEqual([
      12,
      12,
      null,
    ]);
  });
});
