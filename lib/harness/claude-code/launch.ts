import { claudeMcpConnections, resolveMcpServers } from "../mcp";
import { KEEP_ALIVE } from "../sandbox-env";
import type { HarnessContext, HarnessLaunch, HarnessTerminal } from "../types";
import { claudeBinary } from "./binary";

/**
 * Claude Code starts straight at its prompt: onboarding done and the workspace trusted. The agent's
 * MCP servers are user-scope servers here (the TUI's); the Agent SDK does not load this scope and
 * gets them in its query options instead (lib/harness/claude-agent-sdk/harness.ts).
 */
function claudeState(ctx: HarnessContext): string {
  const servers = claudeMcpConnections(resolveMcpServers(ctx.mcpServers ?? [], ctx.modelBase));
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

/**
 * A sandbox for the `claude` CLI, kept alive for Hangar to start it in: the same for the Claude Code
 * TUI (`tui`) and the Agent SDK, which runs the same CLI per turn (`tui` undefined).
 */
export function claudeLaunch(ctx: HarnessContext, tui: HarnessTerminal | undefined): HarnessLaunch {
  return {
    argv: KEEP_ALIVE,
    ready: { kind: "command", argv: [claudeBinary.file(), "--version"] },
    env: claudeEnv(ctx),
    files: [
      { path: "~/.claude.json", content: claudeState(ctx), template: true },
      ...(ctx.prompt ? [{ path: "~/.claude/CLAUDE.md", content: ctx.prompt }] : []),
    ],
    serves: false,
    tui,
  };
}
