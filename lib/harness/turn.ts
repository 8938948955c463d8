import type { ChildProcess } from "node:child_process";

import type { TokenUsage, TurnEvent } from "@/lib/schemas/session-event";

/*
 * The contract between Hangar's messaging layer and an API harness (opencode, claude-agent-sdk).
 * An adapter runs one turn at a time: it sends the user's text to the harness, maps the harness's
 * native output onto TurnEvents in the order they happen, and resolves with the turn's summary.
 * It never touches the database: `emit` is how events reach the session's log.
 */

export type TurnInput = {
  text: string;
  /** Awaited before the next event is produced, so the log keeps the harness's order. */
  emit: (event: TurnEvent) => Promise<void>;
  /** Aborted by POST /abort or shutdown: the adapter stops the harness's turn and resolves. */
  signal: AbortSignal;
};

export type TurnSummary = {
  finish: "stop" | "tool_use" | "length" | "aborted" | "error";
  tokens: TokenUsage;
  cost_usd: number | null;
  /** Set when finish is "error": what went wrong, for a person. */
  error?: string;
  /** The harness's own session id after the turn (kept so a later turn or a restart can resume). */
  harnessSessionId: string | null;
};

export type PermissionReply = "once" | "always" | "reject";

export type HarnessSession = {
  turn(input: TurnInput): Promise<TurnSummary>;
  /**
   * Answers a permission_request the current turn is waiting on. The adapter emits the matching
   * permission_reply event itself (when the harness confirms it), so the log holds it exactly once.
   */
  answerPermission(permissionId: string, reply: PermissionReply): Promise<void>;
  /** Releases connections and child processes (the sandbox itself is not the adapter's). */
  close(): Promise<void>;
};

/** What an adapter is given to reach its harness. */
export type HarnessSessionOptions = {
  /** The agent's model string (LITELLM_DEFAULT_MODEL). */
  model: string;
  /** The agent's prompt with its skill blocks: in effect from the first turn. */
  prompt: string;
  /** The harness's session id from an earlier turn or process, to resume; null for a new one. */
  harnessSessionId: string | null;
  /** opencode: `opencode serve` reached through this Unix socket (host side), with this password. */
  socketPath?: string;
  password?: string;
  /**
   * claude-agent-sdk: starts a program inside the session's sandbox with the harness environment
   * (the same argv/env contract as the SDK's spawnClaudeCodeProcess); cwd is inside the sandbox.
   */
  spawn?: (argv: string[], options: { env: Record<string, string>; cwd?: string }) => ChildProcess;
  /**
   * claude-agent-sdk: the agent's MCP servers (lib/harness/mcp.ts), which it does not read from
   * ~/.claude.json. Values may hold `${VAR}`, which the CLI expands inside the sandbox.
   */
  mcpServers?: { name: string; url: string; headers?: Record<string, string> }[];
};
