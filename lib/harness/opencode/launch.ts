import { resolveMcpServers, type McpServer } from "../mcp";
import type { HarnessContext, HarnessLaunch } from "../types";
import { opencodeBinary } from "./binary";

/** opencode's provider for the per-session model endpoint; the model id is the agent's model string. */
export const OPENCODE_PROVIDER = "hangar";

/** opencode's remote MCP servers; it expands `{env:…}` in headers inside the sandbox. */
function opencodeMcp(servers: McpServer[]) {
  return Object.fromEntries(
    servers.map(({ name, url, viaGateway }) => [
      name,
      {
        type: "remote",
        url,
        enabled: true,
        ...(viaGateway ? { headers: { Authorization: "Bearer {env:LITELLM_API_KEY}" } } : {}),
      },
    ]),
  );
}

function opencodeConfig(ctx: HarnessContext): string {
  const servers = resolveMcpServers(ctx.mcpServers ?? [], ctx.modelBase);
  return JSON.stringify(
    {
      $schema: "https://opencode.ai/config.json",
      provider: {
        [OPENCODE_PROVIDER]: {
          npm: "@ai-sdk/openai-compatible",
          name: "Hangar model gateway",
          options: { baseURL: `${ctx.modelBase}/v1`, apiKey: "{env:LITELLM_API_KEY}" },
          models: { [ctx.model]: { name: ctx.model } },
        },
      },
      enabled_providers: [OPENCODE_PROVIDER],
      model: `${OPENCODE_PROVIDER}/${ctx.model}`,
      small_model: `${OPENCODE_PROVIDER}/${ctx.model}`,
      ...(servers.length > 0 ? { mcp: opencodeMcp(servers) } : {}),
      // The sandbox is the boundary: the agent may run commands and edit files without asking.
      permission: { bash: "allow", edit: "allow", webfetch: "allow" },
      autoupdate: false,
      share: "disabled",
    },
    null,
    2,
  );
}

/** `opencode serve` on the sandbox's loopback PORT, with the session's server password. */
export function opencodeLaunch(ctx: HarnessContext): HarnessLaunch {
  return {
    argv: [opencodeBinary.file(), "serve", "--hostname", "127.0.0.1", "--port", String(ctx.port)],
    ready: {
      kind: "http",
      port: ctx.port,
      path: "/global/health",
      user: "opencode",
      passwordEnv: "OPENCODE_SERVER_PASSWORD",
      timeoutMs: 60_000,
    },
    env: {
      OPENCODE_SERVER_PASSWORD: ctx.serverPassword,
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      OPENCODE_DISABLE_AUTOUPDATE: "1",
    },
    files: [
      { path: "~/.config/opencode/opencode.json", content: opencodeConfig(ctx) },
      ...(ctx.prompt ? [{ path: "~/.config/opencode/AGENTS.md", content: ctx.prompt }] : []),
    ],
    serves: true,
    tui: undefined,
  };
}
