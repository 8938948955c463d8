import { claudeBinary } from "../claude-code/binary";
import { claudeLaunch } from "../claude-code/launch";
import { CLAUDE_MODEL_BASE, claudeMcpConnections, resolveMcpServers } from "../mcp";
import { withSessionEnv } from "../sandbox-env";
import type { ApiHarness } from "../types";
import { sdkChildEnv } from "./child-env";
import { createClaudeSdkSession } from "./session";

/** The Agent SDK in Hangar's process, its `claude` CLI (one per turn) in the sandbox. */
export const claudeAgentSdkHarness = {
  id: "claude-agent-sdk",
  kind: "api",
  binary: claudeBinary,
  launch: (ctx) => claudeLaunch(ctx, undefined),
  openTurnClient: (ctx) =>
    createClaudeSdkSession({
      model: ctx.model,
      prompt: ctx.prompt,
      harnessSessionId: ctx.harnessSessionId,
      // An agent's always_ask tools wait for an answer (user.tool_confirmation); the rest run.
      ...(ctx.permissions?.ask.length && { permissions: "ask" as const, askTools: ctx.permissions.ask }),
      ...(ctx.permissions?.disabled.length && { disallowedTools: ctx.permissions.disabled }),
      // The CLI expands ${LITELLM_API_BASE} and ${LITELLM_API_KEY} inside the sandbox: the host knows
      // neither the model endpoint's port there (random without isolation) nor the session token.
      mcpServers: claudeMcpConnections(resolveMcpServers(ctx.mcpServers, CLAUDE_MODEL_BASE)),
      spawn: (argv, options) =>
        ctx.spawnInSandbox(withSessionEnv(argv), { env: sdkChildEnv(options.env), cwd: options.cwd }),
    }),
} satisfies ApiHarness;
