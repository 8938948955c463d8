import { resolveMcpServers, type McpServer } from "../mcp";
import { KEEP_ALIVE } from "../sandbox-env";
import type { HarnessContext, HarnessLaunch, HarnessTerminal } from "../types";
import { codexBinary } from "./binary";

function toml(value: string): string {
  return JSON.stringify(value);
}

/** Codex's streamable-HTTP MCP servers; it reads the bearer token from the named variable. */
function codexMcp(servers: McpServer[]): string[] {
  return servers.flatMap(({ name, url, viaGateway }) => [
    ``,
    `[mcp_servers.${name}]`,
    `url = ${toml(url)}`,
    ...(viaGateway ? [`bearer_token_env_var = "LITELLM_API_KEY"`] : []),
  ]);
}

/** Codex talks Responses to the per-session endpoint; its own sandbox is off (ours is the boundary). */
function codexConfig(ctx: HarnessContext): string {
  return [
    `model = ${toml(ctx.model)}`,
    `model_provider = "hangar"`,
    `approval_policy = "never"`,
    `sandbox_mode = "danger-full-access"`,
    ``,
    `[model_providers.hangar]`,
    `name = "Hangar model gateway"`,
    `base_url = ${toml(`${ctx.modelBase}/v1`)}`,
    `env_key = "LITELLM_API_KEY"`,
    `wire_api = "responses"`,
    ``,
    `[features]`,
    `daemon_auto_start = false`,
    `apps = false`,
    `plugins = false`,
    `remote_plugin = false`,
    `in_app_updates = false`,
    ``,
    `[analytics]`,
    `enabled = false`,
    ``,
    `[projects."{{WORKSPACE}}"]`,
    `trust_level = "trusted"`,
    ...codexMcp(resolveMcpServers(ctx.mcpServers ?? [], ctx.modelBase)),
    ``,
  ].join("\n");
}

/** A sandbox kept alive for the Codex TUI, with its config and the agent's prompt. */
export function codexLaunch(ctx: HarnessContext, tui: HarnessTerminal): HarnessLaunch {
  return {
    argv: KEEP_ALIVE,
    ready: { kind: "command", argv: [codexBinary.file(), "--version"] },
    env: {},
    files: [
      { path: "~/.codex/config.toml", content: codexConfig(ctx), template: true },
      ...(ctx.prompt ? [{ path: "~/.codex/AGENTS.md", content: ctx.prompt }] : []),
    ],
    serves: false,
    tui,
  };
}
