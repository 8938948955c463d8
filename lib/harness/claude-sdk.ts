import type { ChildProcess } from "node:child_process";
import { type Readable, Transform, type Writable } from "node:stream";

import {
  type CanUseTool,
  type NonNullableUsage,
  type PermissionUpdate,
  query,
  type SDKAssistantMessage,
  type SDKMessage,
  type SDKPartialAssistantMessage,
  type SDKResultMessage,
  type SDKUserMessage,
  type SpawnedProcess,
  type SpawnOptions,
} from "@anthropic-ai/claude-agent-sdk";

import { CLAUDE_SDK_LINE_MAX, CLAUDE_SDK_STDERR_TAIL } from "@/lib/bounds";
import { log } from "@/lib/log";
import type { TokenUsage, TurnEvent } from "@/lib/schemas/session-event";

import { harnessBinaries } from "./binaries";
import type { HarnessSession, HarnessSessionOptions, PermissionReply, TurnInput, TurnSummary } from "./turn";

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
};

type Spawn = NonNullable<HarnessSessionOptions["spawn"]>;

const STDERR_REPORT_LINES = 8;

/** The last lines the CLI wrote to stderr, for error messages a person can act on. */
class StderrTail {
  private text = "";

  push(chunk: Buffer | string) {
    this.text = (this.text + chunk.toString().slice(-CLAUDE_SDK_STDERR_TAIL)).slice(-CLAUDE_SDK_STDERR_TAIL);
  }

  lines(): string {
    return this.text
      .split("\n")
      .map((line) => line.trimEnd())
      .filter((line) => line.trim() !== "")
      .slice(-STDERR_REPORT_LINES)
      .join("\n");
  }
}

// Model tokens reach the CLI only through the sandbox's environment, but the CLI or the gateway may
// echo one back in an error; none of these ever reach an event or a summary.
const SECRETS = [
  /\b((?:ANTHROPIC_AUTH_TOKEN|ANTHROPIC_API_KEY|LITELLM_API_KEY)\s*[=:]\s*)\S+/g,
  /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  /\b(x-api-key\s*[=:]\s*)\S+/gi,
  /()\bsk-[A-Za-z0-9_-]{8,}/g,
];

function redact(text: string): string {
  return SECRETS.reduce((out, pattern) => out.replace(pattern, "$1[redacted]"), text);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const EXIT_WAIT_MS = 5_000;

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Waits for a child to exit, killing it if it takes longer than `ms`. */
async function reap(child: ChildProcess, ms: number): Promise<void> {
  if (exited(child)) return;
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  await exit;
  clearTimeout(timer);
}

/**
 * The CLI's stdout as the SDK reads it, with no line longer than `max` bytes: past that, `onOver` is
 * called once and the stream ends, so the SDK's line reader never holds more.
 */
function boundedLines(source: NodeJS.ReadableStream, max: number, onOver: () => void): Transform {
  let lineLength = 0;
  let over = false;
  const lines = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (over) return done();
      // Complete lines go on to the SDK's reader; only the unfinished last one waits there.
      const lastNewline = chunk.lastIndexOf(10);
      lineLength = lastNewline < 0 ? lineLength + chunk.length : chunk.length - lastNewline - 1;
      if (lineLength > max) {
        over = true;
        onOver();
        this.push(null);
        return done();
      }
      done(null, chunk);
    },
  });
  source.pipe(lines);
  return lines;
}

/**
 * One turn: the CLI process the SDK starts through Hangar's sandbox spawn, its stderr, and the
 * switch that stops it. `controller` is the SDK's; `stopped` is only set when someone asked to stop
 * (the SDK also aborts its controller when it cleans up after a finished turn).
 */
class Run {
  readonly controller = new AbortController();
  readonly stderr = new StderrTail();
  private readonly asked = new AbortController();
  private readonly children: ChildProcess[] = [];
  spawnError: Error | null = null;
  /** Set when the CLI broke a bound: why the turn ended. */
  overflow: string | null = null;

  /** Resolves when someone stops the turn. */
  readonly onStop = new Promise<null>((resolve) =>
    this.asked.signal.addEventListener("abort", () => resolve(null), { once: true }),
  );

  get stopped(): boolean {
    return this.asked.signal.aborted;
  }

  // The SDK only closes the CLI's stdin on abort and kills it seconds later, while the reply keeps
  // streaming; SIGTERM stops the request at once and still lets Claude Code save its transcript.
  readonly stop = () => {
    this.asked.abort();
    this.controller.abort();
    for (const child of this.children) if (!exited(child)) child.kill("SIGTERM");
  };

  spawner(spawn: Spawn): (options: SpawnOptions) => SpawnedProcess {
    return ({ command, args, env, signal }) => {
      // The SDK was given an empty env, so these are only its own additions (entrypoint, version…).
      const own = Object.fromEntries(
        Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
      );
      // cwd stays unset: the sandbox's workspace is where the CLI belongs, not Hangar's cwd.
      const child: ChildProcess = spawn([command, ...args], { env: own });
      this.children.push(child);
      child.on("error", (err) => (this.spawnError ??= err));
      if (!child.stdin || !child.stdout) {
        child.kill("SIGKILL");
        throw new Error("the sandbox spawn must pipe stdin and stdout");
      }
      child.stderr?.on("data", (chunk: Buffer) => this.stderr.push(chunk));
      // The SDK aborts this signal after its own stdin-EOF grace period: the hard stop.
      signal.addEventListener("abort", () => child.kill("SIGKILL"), { once: true });
      if (this.stopped) child.kill("SIGTERM");
      const stdout = boundedLines(child.stdout, CLAUDE_SDK_LINE_MAX, () => {
        this.overflow = `it wrote a line longer than ${CLAUDE_SDK_LINE_MAX / (1024 * 1024)} MiB to stdout`;
        log.error("claude-agent-sdk CLI stopped", { error: this.overflow });
        child.kill("SIGKILL");
      });
      return processOf(child, child.stdin, stdout);
    };
  }

  /** Waits until the CLI has exited, so the next turn never resumes a transcript still written to. */
  async settle(): Promise<void> {
    await Promise.all(this.children.map((child) => reap(child, EXIT_WAIT_MS)));
  }
}

type Listener = (...args: unknown[]) => void;

/** The child as the SDK sees it, with stdout replaced by the bounded stream. */
function processOf(child: ChildProcess, stdin: Writable, stdout: Readable): SpawnedProcess {
  return {
    stdin,
    stdout,
    get killed() {
      return child.killed;
    },
    get exitCode() {
      return child.exitCode;
    },
    get signalCode() {
      return child.signalCode;
    },
    kill: (signal) => child.kill(signal),
    // The SDK listens for "exit" and "error" only; each is the child's own event.
    on: ((event: string, listener: Listener) => void child.on(event, listener)) as SpawnedProcess["on"],
    once: ((event: string, listener: Listener) => void child.once(event, listener)) as SpawnedProcess["once"],
    off: ((event: string, listener: Listener) => void child.off(event, listener)) as SpawnedProcess["off"],
  };
}

/** Runs `emit` calls one after another, so callbacks and the message loop keep one order. */
class EventQueue {
  private tail: Promise<void> = Promise.resolve();
  failure: unknown = null;

  constructor(private readonly emit: (event: TurnEvent) => Promise<void>) {}

  push(event: TurnEvent): Promise<void> {
    const next = this.tail.then(() => (this.failure ? undefined : this.emit(event)));
    this.tail = next.catch((err: unknown) => {
      this.failure ??= err;
    });
    return next;
  }
}

function toolOutput(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return content === undefined ? "" : JSON.stringify(content);
  return content
    .map((block: { type?: string; text?: string }) =>
      block.type === "text" ? (block.text ?? "") : block.type === "image" ? "[image]" : JSON.stringify(block),
    )
    .join("\n");
}

/**
 * Maps SDK messages onto TurnEvents. Part ids are `<assistant message id>:<content block index>`,
 * the same for a block's deltas and its final text. While streaming, the CLI sends one assistant
 * message per finished block (all with the message's id and a one-block `content`), in block order,
 * so the n-th block seen for an id is stream index n.
 */
class EventMapper {
  private streamMessageId: string | null = null;
  private readonly blocksSeen = new Map<string, number>();
  private readonly announced = new Set<string>();

  constructor(
    private readonly events: EventQueue,
    private readonly toolNames: Map<string, string>,
  ) {}

  async map(message: SDKMessage): Promise<void> {
    // A subagent's own messages (Task tool) stay inside its tool call; its result is the tool_result.
    if ("parent_tool_use_id" in message && message.parent_tool_use_id) return;
    if (message.type === "stream_event") return this.streamEvent(message);
    if (message.type === "assistant") return this.assistant(message);
    if (message.type === "user") return this.toolResults(message);
  }

  /** Emits a tool_call once, whether the assistant message or a permission prompt comes first. */
  async announceCall(callId: string, tool: string, input: unknown): Promise<void> {
    if (this.announced.has(callId)) return;
    this.announced.add(callId);
    this.toolNames.set(callId, tool);
    await this.events.push({ type: "tool_call", call_id: callId, tool, input });
  }

  private async streamEvent(message: SDKPartialAssistantMessage) {
    const event = message.event;
    if (event.type === "message_start") {
      this.streamMessageId = event.message.id;
      return;
    }
    if (event.type !== "content_block_delta" || !this.streamMessageId) return;
    const partId = `${this.streamMessageId}:${event.index}`;
    if (event.delta.type === "text_delta")
      await this.events.push({ type: "assistant_delta", part_id: partId, text: event.delta.text });
    else if (event.delta.type === "thinking_delta")
      await this.events.push({ type: "thinking_delta", part_id: partId, text: event.delta.thinking });
  }

  private async assistant(message: SDKAssistantMessage) {
    // An API failure comes as a synthetic message holding the error text; the summary reports it.
    if (message.error && message.message.model === "<synthetic>") return;
    const id = message.message.id;
    for (const block of message.message.content) {
      const index = this.blocksSeen.get(id) ?? 0;
      this.blocksSeen.set(id, index + 1);
      const partId = `${id}:${index}`;
      if (block.type === "text")
        await this.events.push({ type: "assistant_text", part_id: partId, text: block.text });
      else if (block.type === "thinking")
        await this.events.push({ type: "thinking", part_id: partId, text: block.thinking });
      else if (block.type === "tool_use") await this.announceCall(block.id, block.name, block.input);
    }
  }

  private async toolResults(message: SDKUserMessage) {
    const content = message.message.content;
    if (typeof content === "string") return;
    for (const block of content) {
      if (block.type !== "tool_result") continue;
      await this.events.push({
        type: "tool_result",
        call_id: block.tool_use_id,
        tool: this.toolNames.get(block.tool_use_id) ?? "unknown",
        output: toolOutput(block.content),
        is_error: block.is_error === true,
      });
    }
  }
}

function tokensOf(usage: NonNullableUsage | undefined): TokenUsage {
  if (!usage) return { input: 0, output: 0 };
  const thinking = (usage as { output_tokens_details?: { thinking_tokens?: number } }).output_tokens_details
    ?.thinking_tokens;
  return {
    input: usage.input_tokens,
    output: usage.output_tokens,
    ...(thinking ? { reasoning: thinking } : {}),
    cache_read: usage.cache_read_input_tokens,
    cache_write: usage.cache_creation_input_tokens,
  };
}

/**
 * `total_cost_usd` runs on across resumes (a resumed session starts from the total its transcript
 * saved). The CLI also reports this result's own spend per model, which is what a turn costs.
 */
function turnCost(result: SDKResultMessage, previousTotal: number | null): number | null {
  const own = (result as { model_usage_since_last_result?: Record<string, { costUSD?: number }> })
    .model_usage_since_last_result;
  if (own) return Object.values(own).reduce((sum, usage) => sum + (usage.costUSD ?? 0), 0);
  return previousTotal === null ? null : Math.max(0, result.total_cost_usd - previousTotal);
}

function finishOf(result: SDKResultMessage): Pick<TurnSummary, "finish" | "error"> {
  switch (result.subtype) {
    case "success":
      if (result.is_error)
        return { finish: "error", error: `Claude Code got no reply from the model: ${result.result}` };
      if (result.stop_reason === "max_tokens") return { finish: "length" };
      if (result.stop_reason === "tool_use") return { finish: "tool_use" };
      return { finish: "stop" };
    case "error_max_turns":
      return { finish: "length" };
    case "error_max_budget_usd":
      return { finish: "error", error: "The turn stopped at its cost budget." };
    default:
      return {
        finish: "error",
        error: `Claude Code stopped during the turn: ${result.errors.join("; ") || result.subtype}`,
      };
  }
}

function summaryOf(
  result: SDKResultMessage,
  previousTotal: number | null,
  sessionId: string | null,
): TurnSummary {
  const { finish, error } = finishOf(result);
  return {
    finish,
    tokens: tokensOf(result.usage),
    cost_usd: turnCost(result, previousTotal),
    ...(error ? { error: redact(error) } : {}),
    harnessSessionId: result.session_id || sessionId,
  };
}

type Pending = { resolve: (reply: PermissionReply | null) => void };

export async function createClaudeSdkSession(options: ClaudeSdkSessionOptions): Promise<HarnessSession> {
  const spawn = options.spawn;
  if (!spawn) throw new Error("claude-agent-sdk needs options.spawn to start its CLI inside the sandbox");
  const ask = options.permissions === "ask";
  const executable = harnessBinaries.claude();
  const mcpServers = Object.fromEntries(
    (options.mcpServers ?? []).map(({ name, url, headers }) => [
      name,
      { type: "http" as const, url, ...(headers ? { headers } : {}) },
    ]),
  );

  let sessionId = options.harnessSessionId;
  // Cumulative cost so far, for the fallback per-turn cost: unknown when resuming an older session.
  let totalCost: number | null = sessionId ? null : 0;
  const toolNames = new Map<string, string>();
  const pending = new Map<string, Pending>();
  // Rules answered "always". Each turn runs a new CLI, which forgets session rules, so the
  // adapter answers for them itself.
  const granted = new Set<string>();
  let running: { run: Run; done: Promise<TurnSummary> } | null = null;
  let closed = false;

  const empty = (finish: TurnSummary["finish"], error?: string): TurnSummary => ({
    finish,
    tokens: { input: 0, output: 0 },
    cost_usd: null,
    ...(error ? { error } : {}),
    harnessSessionId: sessionId,
  });

  function askPermission(events: EventQueue, mapper: EventMapper): CanUseTool {
    return async (tool, input, { signal, toolUseID, title, suggestions }) => {
      const rules = rulesOf(tool, suggestions);
      if (rules.every((rule) => granted.has(rule))) return { behavior: "allow", updatedInput: input };
      await mapper.announceCall(toolUseID, tool, input);
      const permissionId = toolUseID;
      // Waiting starts before the request is out, so an answer given during emit is not lost.
      const answer = new Promise<PermissionReply | null>((resolve) => {
        if (signal.aborted) return resolve(null);
        pending.set(permissionId, { resolve });
        signal.addEventListener("abort", () => resolve(null), { once: true });
      }).finally(() => pending.delete(permissionId));
      await events.push({
        type: "permission_request",
        permission_id: permissionId,
        tool,
        input,
        ...(title ? { title } : {}),
      });
      const reply = await answer;
      if (reply === null) return { behavior: "deny", message: "The turn was stopped.", interrupt: true };
      await events.push({ type: "permission_reply", permission_id: permissionId, reply });
      if (reply === "reject") return { behavior: "deny", message: "The user rejected this tool call." };
      if (reply === "once") return { behavior: "allow", updatedInput: input };
      for (const rule of rules) granted.add(rule);
      return {
        behavior: "allow",
        updatedInput: input,
        updatedPermissions: (suggestions ?? []).map(inSession),
      };
    };
  }

  const runTurn = async (input: TurnInput, run: Run): Promise<TurnSummary> => {
    const events = new EventQueue(input.emit);
    const mapper = new EventMapper(events, toolNames);
    let result: SDKResultMessage | null = null;
    let failure: unknown = null;
    try {
      const messages = query({
        prompt: input.text,
        options: {
          model: options.model,
          ...(sessionId ? { resume: sessionId } : {}),
          includePartialMessages: true,
          systemPrompt: {
            type: "preset",
            preset: "claude_code",
            ...(options.prompt ? { append: options.prompt } : {}),
          },
          settingSources: ["project", "local"],
          ...(options.mcpServers?.length ? { mcpServers, mcpServersDelivery: "initialize" as const } : {}),
          ...(ask
            ? {
                permissionMode: "default" as const,
                canUseTool: askPermission(events, mapper),
              }
            : { permissionMode: "bypassPermissions" as const, allowDangerouslySkipPermissions: true }),
          abortController: run.controller,
          pathToClaudeCodeExecutable: executable,
          // Not Hangar's environment: the sandbox spawn supplies the harness's own.
          env: {},
          spawnClaudeCodeProcess: run.spawner(spawn),
        },
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
    for (const waiting of pending.values()) waiting.resolve(null);
    if (events.failure) run.stop();
    await run.settle();
    if (events.failure) throw events.failure;
    if (run.stopped) return empty("aborted");
    if (result) {
      const summary = summaryOf(result, totalCost, sessionId);
      // Error results carry a zeroed total; keep the last real one.
      if (result.total_cost_usd > 0) totalCost = result.total_cost_usd;
      sessionId = summary.harnessSessionId;
      return summary;
    }
    const reason = run.overflow
      ? `Hangar stopped it: ${run.overflow}`
      : run.spawnError
        ? `it could not be started (${run.spawnError.message})`
        : failure
          ? messageOf(failure)
          : "it ended without a result";
    const tail = run.stderr.lines();
    return empty(
      "error",
      redact(`Claude Code failed in the sandbox: ${reason}${tail ? `\nLast stderr lines:\n${tail}` : ""}`),
    );
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
      const waiting = pending.get(permissionId);
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

/** "Always" keeps for the session only: never a settings file in the person's workspace. */
function inSession(update: PermissionUpdate): PermissionUpdate {
  return "destination" in update ? { ...update, destination: "session" } : update;
}

/** The rules an answer grants: the allow rules Claude Code suggested, or else the whole tool. */
function rulesOf(tool: string, suggestions: PermissionUpdate[] | undefined): string[] {
  const rules = (suggestions ?? []).flatMap((update) =>
    update.type === "addRules" && update.behavior === "allow"
      ? update.rules.map((rule) =>
          rule.ruleContent ? `${rule.toolName}(${rule.ruleContent})` : rule.toolName,
        )
      : [],
  );
  return rules.length > 0 ? rules : [tool];
}
