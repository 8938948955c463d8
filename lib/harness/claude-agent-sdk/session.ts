import { query, type CanUseTool, type Options, type SDKResultMessage } from "@anthropic-ai/claude-agent-sdk";

import { claudeBinary } from "../claude-code/binary";
import type { HarnessSession, HarnessSessionOptions, TurnInput, TurnSummary } from "../turn";
import { Run } from "./cli-process";
import { EventMapper, EventQueue, redact, summaryOf } from "./events";
import { permissionAsker, type Permits } from "./permissions";

/*
 * The claude-agent-sdk turn adapter. The SDK's `query()` runs in Hangar's process; its CLI child runs
 * inside the sandbox through `options.spawn`, which already applies the harness environment (model
 * endpoint, token, HOME), so the child gets only the few variables the SDK itself sets on top.
 *
 * Each turn is one `query()` — one CLI process — that resumes the previous turn's SDK session. The
 * agent's prompt is appended to Claude Code's own system prompt, which the CLI records on the first
 * request and reuses on every resume. User-level settings are not loaded: the bootstrap also writes
 * the prompt to ~/.claude/CLAUDE.md (for the TUI harness), and loading both would send it twice.
 * That also leaves out ~/.claude.json's user-scope MCP servers, so the agent's come in the query
 * options (over the initialize request, not the command line); the CLI expands their `${VAR}`s.
 *
 * The CLI runs in the sandbox, so it may be hostile: the SDK reads its stdout line by line, and a
 * line longer than CLAUDE_SDK_LINE_MAX stops the CLI and ends the turn with an error instead of
 * growing in Hangar's memory; only a short tail of its stderr is kept (lib/bounds.ts).
 */

export type ClaudeSdkSessionOptions = HarnessSessionOptions & {
  /**
   * "allow" (default): the sandbox is the boundary, every tool runs without asking. "ask": each tool
   * call Claude Code would ask about becomes a permission_request that waits for answerPermission.
   */
  permissions?: "allow" | "ask";
  /** With "ask": only these tools ask (names or `prefix*` rules); without it, every tool does. */
  askTools?: string[];
  /** Tools the CLI must not use at all. */
  disallowedTools?: string[];
};

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type McpServers = Record<string, { type: "http"; url: string; headers?: Record<string, string> }>;

/** The CLI the SDK starts: the pinned binary, through the sandbox spawn. */
type Cli = { executable: string; spawn: NonNullable<HarnessSessionOptions["spawn"]> };

/** The query options of one turn: one CLI process that resumes `sessionId` (when set). */
function queryOptions(
  options: ClaudeSdkSessionOptions,
  cli: Cli,
  sessionId: string | null,
  mcpServers: McpServers,
  run: Run,
  canUseTool: CanUseTool | null,
): Options {
  return {
    model: options.model,
    ...(sessionId ? { resume: sessionId } : {}),
    includePartialMessages: true,
    systemPrompt: {
      type: "preset",
      preset: "claude_code",
      ...(options.prompt ? { append: options.prompt } : {}),
    },
    settingSources: ["project", "local"],
    ...(options.disallowedTools?.length ? { disallowedTools: options.disallowedTools } : {}),
    ...(options.mcpServers?.length ? { mcpServers, mcpServersDelivery: "initialize" as const } : {}),
    ...(canUseTool
      ? { permissionMode: "default" as const, canUseTool }
      : { permissionMode: "bypassPermissions" as const, allowDangerouslySkipPermissions: true }),
    abortController: run.controller,
    pathToClaudeCodeExecutable: cli.executable,
    // Not Hangar's environment: the sandbox spawn supplies the harness's own.
    env: {},
    spawnClaudeCodeProcess: run.spawner(cli.spawn),
  };
}

/** Why a turn ended with neither a result nor a stop, for a person (redacted). */
function failureOf(run: Run, failure: unknown): string {
  const reason = run.overflow
    ? `Hangar stopped it: ${run.overflow}`
    : run.spawnError
      ? `it could not be started (${run.spawnError.message})`
      : failure
        ? messageOf(failure)
        : "it ended without a result";
  const tail = run.stderr.lines();
  return redact(`Claude Code failed in the sandbox: ${reason}${tail ? `\nLast stderr lines:\n${tail}` : ""}`);
}

export async function createClaudeSdkSession(options: ClaudeSdkSessionOptions): Promise<HarnessSession> {
  const spawn = options.spawn;
  if (!spawn) throw new Error("claude-agent-sdk needs options.spawn to start its CLI inside the sandbox");
  const ask = options.permissions === "ask";
  const cli: Cli = { executable: claudeBinary.file(), spawn };
  const mcpServers: McpServers = Object.fromEntries(
    (options.mcpServers ?? []).map(({ name, url, headers }) => [
      name,
      { type: "http" as const, url, ...(headers ? { headers } : {}) },
    ]),
  );

  let sessionId = options.harnessSessionId;
  // Cumulative cost so far, for the fallback per-turn cost: unknown when resuming an older session.
  let totalCost: number | null = sessionId ? null : 0;
  const toolNames = new Map<string, string>();
  const permits: Permits = { pending: new Map(), granted: new Set() };
  let running: { run: Run; done: Promise<TurnSummary> } | null = null;
  let closed = false;

  const empty = (finish: TurnSummary["finish"], error?: string): TurnSummary => ({
    finish,
    tokens: { input: 0, output: 0 },
    cost_usd: null,
    ...(error ? { error } : {}),
    harnessSessionId: sessionId,
  });

  const runTurn = async (input: TurnInput, run: Run): Promise<TurnSummary> => {
    const events = new EventQueue(input.emit);
    const mapper = new EventMapper(events, toolNames);
    let result: SDKResultMessage | null = null;
    let failure: unknown = null;
    try {
      const canUseTool = ask ? permissionAsker(permits, events, mapper, options.askTools) : null;
      const messages = query({
        prompt: input.text,
        options: queryOptions(options, cli, sessionId, mcpServers, run, canUseTool),
      });
      try {
        while (!run.stopped) {
          const next = messages.next();
          // After a stop nobody awaits it, and the SDK rejects it with its abort error.
          next.catch(() => undefined);
          const item = await Promise.race([next, run.onStop]);
          if (!item || item.done) break;
          const message = item.value;
          if ("session_id" in message && message.session_id) sessionId = message.session_id;
          if (message.type === "result") {
            result = message;
            break;
          }
          await mapper.map(message);
        }
      } finally {
        // Ends the CLI: its stdin closes and it exits (after a stop, `stop` has signalled it).
        void messages.return(undefined).catch(() => undefined);
      }
    } catch (err) {
      failure = err;
    }
    // A permission prompt cannot outlive its turn.
    for (const waiting of permits.pending.values()) waiting.resolve(null);
    if (events.failure) run.stop();
    await run.settle();
    if (events.failure) throw events.failure;
    if (run.stopped) return empty("aborted");
    if (!result) return empty("error", failureOf(run, failure));
    const summary = summaryOf(result, totalCost, sessionId);
    // Error results carry a zeroed total; keep the last real one.
    if (result.total_cost_usd > 0) totalCost = result.total_cost_usd;
    sessionId = summary.harnessSessionId;
    return summary;
  };

  return {
    async turn(input) {
      if (closed) return empty("error", "The harness session is closed.");
      if (running) throw new Error("a turn is already running in this harness session");
      if (input.signal.aborted) return empty("aborted");
      const run = new Run();
      input.signal.addEventListener("abort", run.stop, { once: true });
      const done = runTurn(input, run).finally(() => {
        input.signal.removeEventListener("abort", run.stop);
        running = null;
      });
      running = { run, done };
      return done;
    },

    async answerPermission(permissionId, reply) {
      const waiting = permits.pending.get(permissionId);
      if (!waiting) throw new Error(`no permission request ${permissionId} is waiting for an answer`);
      waiting.resolve(reply);
    },

    async close() {
      closed = true;
      const current = running;
      if (!current) return;
      current.run.stop();
      await current.done.catch(() => undefined);
    },
  };
}
