import { ValidationError } from "@/lib/errors";
import {
  AGENT_TOOL_NAMES,
  type AgentToolName,
  type ManagedToolset,
  type PermissionPolicy,
  type ToolsInput,
} from "@/lib/schemas/managed-agent";

/*
 * Toolsets of the Managed Agents API and what they mean to a harness. Hangar's harnesses run their
 * own tools in the sandbox; a toolset decides which of them are on and which ask first. Claude Code
 * (the Agent SDK harness) honours both: a disabled tool is disallowed, an always_ask one becomes a
 * permission request the client answers with user.tool_confirmation. `auto` is always_allow here.
 */

const ALLOW: PermissionPolicy = { type: "always_allow" };
const ASK: PermissionPolicy = { type: "always_ask" };

/** Claude Code's names for the agent toolset's tools. */
const CLAUDE_TOOL: Record<AgentToolName, string> = {
  bash: "Bash",
  edit: "Edit",
  read: "Read",
  write: "Write",
  glob: "Glob",
  grep: "Grep",
  web_fetch: "WebFetch",
  web_search: "WebSearch",
};

/** The toolset every agent has when none is set: all tools on, none asking. */
export const DEFAULT_TOOLS: ManagedToolset[] = [
  {
    type: "agent_toolset_20260401",
    default_config: { enabled: true, permission_policy: ALLOW },
    configs: AGENT_TOOL_NAMES.map((name) => ({ name, type: name, enabled: true, permission_policy: ALLOW })),
  },
];

/** Input toolsets with every default filled in; MCP toolsets must name a server the agent has. */
export function normalizeTools(input: ToolsInput, mcpNames: string[]): ManagedToolset[] {
  return input.flatMap((tool, i): ManagedToolset[] => {
    if (tool.type === "custom") return [];
    if (tool.type === "mcp_toolset") {
      if (!mcpNames.includes(tool.mcp_server_name)) {
        throw new ValidationError(`tools.${i}.mcp_server_name: no MCP server named ${tool.mcp_server_name}`, [
          { path: ["tools", i, "mcp_server_name"], message: "names no server in mcp_servers" },
        ]);
      }
      const base = {
        enabled: tool.default_config?.enabled ?? true,
        permission_policy: tool.default_config?.permission_policy ?? ASK,
      };
      return [
        {
          type: "mcp_toolset",
          mcp_server_name: tool.mcp_server_name,
          default_config: base,
          configs: (tool.configs ?? []).map((c) => ({
            name: c.name,
            enabled: c.enabled ?? base.enabled,
            permission_policy: c.permission_policy ?? base.permission_policy,
          })),
        },
      ];
    }
    const base = {
      enabled: tool.default_config?.enabled ?? true,
      permission_policy: tool.default_config?.permission_policy ?? ALLOW,
    };
    const given = new Map((tool.configs ?? []).map((c) => [c.name, c]));
    return [
      {
        type: "agent_toolset_20260401",
        default_config: base,
        configs: AGENT_TOOL_NAMES.map((name) => ({
          name,
          type: name,
          enabled: given.get(name)?.enabled ?? base.enabled,
          permission_policy: given.get(name)?.permission_policy ?? base.permission_policy,
        })),
      },
    ];
  });
}

/** What the harness enforces: tools to disallow and tools to ask about (Claude Code's names). */
export type HarnessPermissions = { ask: string[]; disabled: string[] };

export function harnessPermissions(tools: ManagedToolset[]): HarnessPermissions {
  const ask: string[] = [];
  const disabled: string[] = [];
  for (const toolset of tools) {
    if (toolset.type === "agent_toolset_20260401") {
      for (const config of toolset.configs) {
        const name = CLAUDE_TOOL[config.name];
        if (!config.enabled) disabled.push(name);
        else if (config.permission_policy.type === "always_ask") ask.push(name);
      }
      continue;
    }
    const prefix = `mcp__${toolset.mcp_server_name}__`;
    if (!toolset.default_config.enabled) disabled.push(`${prefix}*`);
    else if (toolset.default_config.permission_policy.type === "always_ask") ask.push(`${prefix}*`);
    for (const config of toolset.configs) {
      if (!config.enabled) disabled.push(prefix + config.name);
      else if (config.permission_policy.type === "always_ask") ask.push(prefix + config.name);
    }
  }
  return { ask, disabled };
}
