import { resolveMcpServers, type McpServer } from "../mcp";
import type { HarnessContext, HarnessLaunch } from "../types";
import { opencodeBinary } from "./binary";

/** opencode's provider for the per-session model endpoint; the model id is the agent's model string. */
export const OPENCODE_PROVIDER = "hangar";

/**
 * opencode reads the model token from the sandbox's private memory-backed folder when it loads its
 * config (`{file:…}`, filled in by the bootstrap's template): a warm opencode, started before any
 * session existed, reads the session's token once the session has claimed it.
 */
const MODEL_TOKEN = "{file:{{PRIVATE}}/model-token}";

/** opencode's remote MCP servers; it expands `{file:…}` in headers inside the sandbox. */
function opencodeMcp(servers: McpServer[]) {
  return Object.fromEntries(
    servers.map(({ name, url, viaGateway }) => [
      name,
      {
        type: "remote",
        url,
        enabled: true,
        ...(viaGateway ? { headers: { Authorization: `Bearer ${MODEL_TOKEN}` } } : {}),
      },
    ]),
  );
}

/** opencode's permission for each of its gated tools, from the Claude Code names the agent's toolsets give. */
const OPENCODE_GATES: Record<"bash" | "edit" | "webfetch", string[]> = {
  bash: ["Bash"],
  edit: ["Edit", "Write"],
  webfetch: ["WebFetch"],
};

/**
 * The sandbox is the boundary: by default the agent runs commands and edits files without asking.
 * An agent's toolsets (lib/managed/tools.ts) may deny a tool or make it ask first.
 */
function opencodePermissions(permissions: HarnessContext["permissions"]) {
  return Object.fromEntries(
    Object.entries(OPENCODE_GATES).map(([gate, tools]) => {
      const has = (list: string[] | undefined) => tools.some((tool) => list?.includes(tool));
      if (has(permissions?.disabled)) return [gate, "deny"];
      return [gate, has(permissions?.ask) ? "ask" : "allow"];
    }),
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
          options: { baseURL: `${ctx.modelBase}/v1`, apiKey: MODEL_TOKEN },
          models: { [ctx.model]: { name: ctx.model } },
        },
      },
      enabled_providers: [OPENCODE_PROVIDER],
      model: `${OPENCODE_PROVIDER}/${ctx.model}`,
      small_model: `${OPENCODE_PROVIDER}/${ctx.model}`,
      ...(servers.length > 0 ? { mcp: opencodeMcp(servers) } : {}),
      permission: opencodePermissions(ctx.permissions),
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
      { path: "~/.config/opencode/opencode.json", content: opencodeConfig(ctx), template: true },
      ...(ctx.prompt ? [{ path: "~/.config/opencode/AGENTS.md", content: ctx.prompt }] : []),
    ],
    serves: true,
    tui: undefined,
  };
}
