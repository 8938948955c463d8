import { SANDBOX_PRIVATE } from "@/lib/sandbox/types";
import type { HarnessId } from "@/lib/schemas/harness";

import { harnessBinaries } from "./binaries";
import { claudeMcpConnections, type McpServer, resolveMcpServers } from "./mcp";

/**
 * How the bootstrap knows the harness is up: an HTTP endpoint answering 200 (with Basic auth when the
 * server has a password: opencode accepts connections about a second before it answers), or a command.
 */
export type HarnessReady =
  | { kind: "http"; port: number; path: string; user?: string; passwordEnv?: string; timeoutMs: number }
  | { kind: "command"; argv: string[] };

/** A file the bootstrap writes; `template` files get {{HOME}} and {{WORKSPACE}} filled in there. */
export type HarnessFile = { path: string; content: string; template?: boolean };

export type HarnessLaunch = {
  argv: string[];
  ready: HarnessReady;
  /** Extra environment for the harness (never secrets of the platform). */
  env: Record<string, string>;
  /** Configuration files the harness reads, written by the bootstrap (paths may start with ~/). */
  files: HarnessFile[];
  /** Whether the host should reach a server inside the sandbox on `port`. */
  serves: boolean;
  /** TUI harnesses: the program Hangar starts in a terminal it holds once the sandbox is ready. */
  tui: { argv: string[]; title: string } | undefined;
};

export type HarnessContext = {
  model: string;
  prompt: string;
  /** Per-session secret the host uses to talk to the harness server. */
  serverPassword: string;
  /** Loopback port a harness server listens on inside the sandbox (PORT). */
  port: number;
  /** The per-session model endpoint as the sandbox sees it (no path), e.g. http://127.0.0.1:4000. */
  modelBase: string;
  /** The per-session model token (LITELLM_API_KEY inside the sandbox). */
  modelToken: string;
  /** The agent's `mcp_servers` entries (see ./mcp.ts). */
  mcpServers?: string[];
};

function mcpServersOf(ctx: HarnessContext): McpServer[] {
  return resolveMcpServers(ctx.mcpServers ?? [], ctx.modelBase);
}

// The sandbox's main process for harnesses that Hangar drives per turn (SDK) or through a PTY (TUIs):
// it keeps the sandbox alive, like a pod's pause container.
const KEEP_ALIVE = ["sleep", "infinity"];

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
  const servers = mcpServersOf(ctx);
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

/**
 * Claude Code starts straight at its prompt: onboarding done and the workspace trusted. The agent's
 * MCP servers are user-scope servers here (the TUI's); the Agent SDK does not load this scope and
 * gets them in its query options instead (lib/sessions/messaging.ts).
 */
function claudeState(ctx: HarnessContext): string {
  const servers = claudeMcpConnections(mcpServersOf(ctx));
  return JSON.stringify(
    {
      hasCompletedOnboarding: true,
      theme: "dark",
      projects: { "{{WORKSPACE}}": { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } },
      ...(servers.length > 0
        ? {
            mcpServers: Object.fromEntries(
              servers.map(({ name, url, headers }) => [
                name,
                { type: "http", url, ...(headers ? { headers } : {}) },
              ]),
            ),
          }
        : {}),
    },
    null,
    2,
  );
}

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
    ...codexMcp(mcpServersOf(ctx)),
    ``,
  ].join("\n");
}

function claudeEnv(ctx: HarnessContext): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: ctx.modelBase,
    // A bearer token rather than ANTHROPIC_API_KEY: the TUI asks to approve a custom API key.
    ANTHROPIC_AUTH_TOKEN: ctx.modelToken,
    ANTHROPIC_MODEL: ctx.model,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
  };
}

/** The TUI a session of this harness shows in its terminal, if it has one. */
export function harnessTui(harness: HarnessId, model: string): { argv: string[]; title: string } | undefined {
  if (harness === "claude-code")
    return { argv: [harnessBinaries.claude(), "--model", model], title: "claude" };
  if (harness === "codex") return { argv: [harnessBinaries.codex()], title: "codex" };
  return undefined;
}

/**
 * Runs `argv` inside the sandbox with the session's harness environment, which the bootstrap keeps
 * in env.sh in the sandbox's private memory-backed folder (per-session values exist only there and in
 * the harness's processes: never on a disk). Programs Hangar starts later enter the sandbox's mount
 * namespace, so they see that folder; drivers without one name theirs in HANGAR_PRIVATE.
 */
export function withSessionEnv(argv: string[]): string[] {
  const file = `"\${HANGAR_PRIVATE:-${SANDBOX_PRIVATE}}/env.sh"`;
  return ["/bin/sh", "-c", `. ${file} && exec "$@"`, "hangar-env", ...argv];
}

/** How each harness starts inside the sandbox. Turn handling and PTYs live in the messaging layer. */
export function harnessLaunch(harness: HarnessId, ctx: HarnessContext): HarnessLaunch {
  switch (harness) {
    case "opencode":
      return {
        argv: [harnessBinaries.opencode(), "serve", "--hostname", "127.0.0.1", "--port", String(ctx.port)],
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
    case "claude-agent-sdk":
    case "claude-code":
      return {
        argv: KEEP_ALIVE,
        ready: { kind: "command", argv: [harnessBinaries.claude(), "--version"] },
        env: claudeEnv(ctx),
        files: [
          { path: "~/.claude.json", content: claudeState(ctx), template: true },
          ...(ctx.prompt ? [{ path: "~/.claude/CLAUDE.md", content: ctx.prompt }] : []),
        ],
        serves: false,
        tui: harnessTui(harness, ctx.model),
      };
    case "codex":
      return {
        argv: KEEP_ALIVE,
        ready: { kind: "command", argv: [harnessBinaries.codex(), "--version"] },
        env: {},
        files: [
          { path: "~/.codex/config.toml", content: codexConfig(ctx), template: true },
          ...(ctx.prompt ? [{ path: "~/.codex/AGENTS.md", content: ctx.prompt }] : []),
        ],
        serves: false,
        tui: harnessTui(harness, ctx.model),
      };
  }
}
