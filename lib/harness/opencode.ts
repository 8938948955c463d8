import http from "node:http";

import { OPENCODE_JSON_MAX, OPENCODE_SSE_EVENT_MAX } from "@/lib/bounds";
import { log } from "@/lib/log";
import type { TokenUsage, TurnEvent } from "@/lib/schemas/session-event";

import { OPENCODE_PROVIDER } from "./adapters";
import type { HarnessSession, HarnessSessionOptions, PermissionReply, TurnInput, TurnSummary } from "./turn";

/*
 * The opencode turn adapter: drives `opencode serve` (inside the sandbox, reached through a Unix
 * socket on the host) over its HTTP API. A turn subscribes to GET /event first, then posts the
 * prompt with POST /session/{id}/prompt_async and maps the session's events onto TurnEvents until
 * opencode reports the session idle. Event shapes: harness-feasibility.md §2.2 and the pinned
 * @opencode-ai/sdk types (v2/gen/types.gen.d.ts); what this file relies on was checked against
 * opencode 1.18.33.
 *
 * The server runs in the sandbox, so it may be hostile: a JSON answer larger than OPENCODE_JSON_MAX
 * and an event larger than OPENCODE_SSE_EVENT_MAX (lib/bounds.ts) are not buffered. The request or
 * stream is dropped and the turn ends with an error that says why.
 */

const SESSION_TITLE = "Hangar session";
const NOT_ANSWERING = "opencode server in the sandbox is not answering";
const REQUEST_TIMEOUT_MS = 15_000;
/** The first event (server.connected) arrives at once; waiting longer means the server is stuck. */
const CONNECT_TIMEOUT_MS = 10_000;
/** opencode sends server.heartbeat every 10 s: three missed ones mean the stream is dead. */
const STALL_MS = 30_000;
/** With no event for the session this long, ask opencode whether the turn is still running. */
const STATUS_POLL_MS = 30_000;
/** How long an aborted turn waits for opencode to go idle before it resolves anyway. */
const ABORT_WAIT_MS = 5_000;
/** After an abort or an error, opencode settles the interrupted parts just after session.idle. */
const SETTLE_MS = 500;

/* The subset of opencode's wire shapes this adapter reads. */

type OpencodeError = { name?: string; data?: { message?: string; statusCode?: number } };

type MessageInfo = {
  id: string;
  role: "user" | "assistant";
  finish?: string;
  cost?: number;
  error?: OpencodeError;
  tokens?: { input: number; output: number; reasoning: number; cache: { read: number; write: number } };
};

type ToolState =
  | { status: "pending"; input: unknown }
  | { status: "running"; input: unknown }
  | { status: "completed"; input: unknown; output: string }
  | { status: "error"; input: unknown; error: string };

type Part = { id: string; messageID: string } & (
  | { type: "text"; text: string; synthetic?: boolean; ignored?: boolean; time?: { end?: number } }
  | { type: "reasoning"; text: string; time?: { end?: number } }
  | { type: "tool"; callID: string; tool: string; state: ToolState }
  | { type: "step-start" | "step-finish" | "snapshot" | "patch" | "file" | "agent" | "subtask" }
);

type OpencodeEvent = { type: string; properties?: Record<string, unknown> };

type Stream = { close(): void };

type InboxItem =
  | { kind: "event"; event: OpencodeEvent; stream: Stream }
  /** `fatal`: the stream broke a bound, so it is not opened again. */
  | { kind: "closed"; reason: string; stream: Stream; fatal?: boolean }
  | { kind: "abort" }
  | { kind: "shutdown" };

export class OpencodeUnavailableError extends Error {
  constructor(cause: string) {
    super(`${NOT_ANSWERING}: ${cause}`);
    this.name = "OpencodeUnavailableError";
  }
}

/** opencode sent more than Hangar buffers for one answer or event; nothing is retried. */
export class OpencodeTooLargeError extends Error {
  constructor(what: string, max: number) {
    super(`opencode in the sandbox sent ${what} larger than ${max / (1024 * 1024)} MiB; Hangar dropped it`);
    this.name = "OpencodeTooLargeError";
  }
}

/** opencode answered, but with an error status. */
export class OpencodeRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "OpencodeRequestError";
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** opencode's error bodies are `{name, data: {message}}`. */
function messageOf(body: unknown): string {
  if (typeof body === "string") return body.slice(0, 300);
  const error = body as OpencodeError | null;
  return error?.data?.message ?? error?.name ?? JSON.stringify(body).slice(0, 300);
}

/** A JSON client for `opencode serve` over a Unix socket, with Basic auth. */
class OpencodeClient {
  private readonly auth: string;
  private readonly streams = new Set<Stream>();

  constructor(
    private readonly socketPath: string,
    password: string,
  ) {
    this.auth = `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}`;
  }

  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          socketPath: this.socketPath,
          path,
          method,
          headers: {
            authorization: this.auth,
            accept: "application/json",
            ...(payload === undefined ? {} : { "content-type": "application/json" }),
          },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size <= OPENCODE_JSON_MAX) return void chunks.push(chunk);
            chunks.length = 0;
            const err = new OpencodeTooLargeError(`an answer to ${method} ${path}`, OPENCODE_JSON_MAX);
            log.error("opencode answer dropped", { path, error: err.message });
            reject(err);
            req.destroy();
          });
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: parseJson(Buffer.concat(chunks).toString("utf8")) }),
          );
          res.on("error", (err) => reject(new OpencodeUnavailableError(err.message)));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on("error", (err) => reject(new OpencodeUnavailableError(err.message)));
      req.end(payload);
    });
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const reply = await this.request(method, path, body);
    if (reply.status >= 200 && reply.status < 300) return reply.body as T;
    throw new OpencodeRequestError(
      reply.status,
      `opencode answered ${reply.status} to ${method} ${path}: ${messageOf(reply.body)}`,
    );
  }

  /**
   * Opens GET /event; resolves once the first event (server.connected) arrived, so a prompt posted
   * afterwards cannot outrun the subscription. Later events and the stream's end go to `onItem`.
   */
  subscribe(onItem: (item: InboxItem) => void): Promise<Stream> {
    return new Promise((resolve, reject) => {
      let connected = false;
      let ended = false;
      const req = http.request({
        socketPath: this.socketPath,
        path: "/event",
        method: "GET",
        headers: { authorization: this.auth, accept: "text/event-stream" },
      });
      const stream: Stream = {
        close: () => {
          ended = true;
          clearTimeout(connectTimer);
          this.streams.delete(stream);
          req.destroy();
        },
      };
      const end = (reason: string, tooLarge?: OpencodeTooLargeError) => {
        if (ended) return;
        stream.close();
        if (connected) onItem({ kind: "closed", reason, stream, fatal: tooLarge !== undefined });
        else reject(tooLarge ?? new OpencodeUnavailableError(reason));
      };
      const connectTimer = setTimeout(
        () => end(`no event stream within ${CONNECT_TIMEOUT_MS / 1000} s`),
        CONNECT_TIMEOUT_MS,
      );
      req.setTimeout(STALL_MS, () => end(`the event stream was silent for ${STALL_MS / 1000} s`));
      req.on("error", (err) => end(err.message));
      req.on("response", (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          end(`GET /event answered ${res.statusCode}`);
          return;
        }
        res.setEncoding("utf8");
        let buffer = "";
        res.on("data", (chunk: string) => {
          // Only the new text can complete an event: the scan starts just before it.
          let boundary = buffer.length > 0 ? buffer.length - 1 : 0;
          // JSON escapes carriage returns, so dropping them only normalises CRLF line ends.
          buffer += chunk.replace(/\r/g, "");
          while ((boundary = buffer.indexOf("\n\n", boundary)) >= 0 && !ended) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            boundary = 0;
            const data = block
              .split("\n")
              .filter((line) => line.startsWith("data:"))
              .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
              .join("\n");
            const event = parseJson(data) as OpencodeEvent | string;
            if (typeof event !== "object" || event === null || typeof event.type !== "string") continue;
            if (!connected) {
              connected = true;
              clearTimeout(connectTimer);
              resolve(stream);
            }
            onItem({ kind: "event", event, stream });
          }
          // What is left is one unfinished event: it may not grow past the bound.
          if (buffer.length > OPENCODE_SSE_EVENT_MAX && !ended) {
            buffer = "";
            const err = new OpencodeTooLargeError("an event", OPENCODE_SSE_EVENT_MAX);
            log.error("opencode event stream dropped", { error: err.message });
            end(err.message, err);
          }
        });
        res.on("end", () => end("the event stream ended"));
        res.on("error", (err) => end(err.message));
      });
      this.streams.add(stream);
      req.end();
    });
  }

  closeStreams() {
    for (const stream of [...this.streams]) stream.close();
  }
}

/** A queue the turn loop reads with a timeout (null when it passed). */
class Inbox<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T) => void) | null = null;

  push = (item: T) => {
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) waiter(item);
    else this.items.push(item);
  };

  next(timeoutMs: number): Promise<T | null> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.waiter = null;
          resolve(null);
        },
        Math.max(0, timeoutMs),
      );
      this.waiter = (item) => {
        clearTimeout(timer);
        resolve(item);
      };
    });
  }
}

function describeError(error: OpencodeError): string {
  const message = error.data?.message ?? error.name ?? "unknown error";
  if (error.name === "APIError" && error.data?.statusCode)
    return `The model API answered ${error.data.statusCode}: ${message}`;
  if (error.name === "ProviderAuthError")
    return `The model endpoint refused opencode's credentials: ${message}`;
  return message;
}

type Outcome = Pick<TurnSummary, "finish" | "error">;

function outcomeOfError(error: OpencodeError): Outcome {
  if (error.name === "MessageAbortedError") return { finish: "aborted" };
  if (error.name === "MessageOutputLengthError") return { finish: "length" };
  return { finish: "error", error: describeError(error) };
}

function outcomeOfFinish(finish: string | undefined): Outcome {
  switch (finish) {
    case "length":
      return { finish: "length" };
    case "tool-calls":
      return { finish: "tool_use" };
    case "content-filter":
      return { finish: "error", error: "The model's content filter stopped the reply." };
    case "error":
      return { finish: "error", error: "The model stopped with an error." };
    default:
      return { finish: "stop" };
  }
}

/**
 * Maps one turn's opencode events onto TurnEvents. `roles` holds every message id the adapter has
 * seen (its role); ids seen in earlier turns are in `past`, so late events of an earlier turn (an
 * aborted reply settles after session.idle) never leak into this one.
 */
class TurnMapper {
  /** The session went busy (or failed) after the prompt: an idle from now on ends the turn. */
  started = false;
  sessionError: OpencodeError | null = null;
  lastActivity = Date.now();
  private readonly assistants = new Map<string, MessageInfo>();
  private readonly partKinds = new Map<string, "text" | "reasoning">();
  private readonly streamed = new Map<string, string>();
  private readonly settled = new Set<string>();
  private readonly called = new Set<string>();
  private readonly answered = new Set<string>();
  private readonly toolNames = new Map<string, string>();
  private readonly children = new Set<string>();

  constructor(
    private readonly sessionId: string,
    private readonly emit: (event: TurnEvent) => Promise<void>,
    private readonly roles: Map<string, MessageInfo["role"]>,
    private readonly past: ReadonlySet<string>,
  ) {}

  /** Handles one event; true when it ends the turn. */
  async handle(event: OpencodeEvent): Promise<boolean> {
    const p = event.properties ?? {};
    if (p.sessionID !== this.sessionId) {
      // Subagents (the task tool) run in child sessions: their permission prompts block this turn.
      const child = typeof p.sessionID === "string" ? p.sessionID : null;
      if (!child) return false;
      if (event.type === "session.created" && (p.info as { parentID?: string }).parentID === this.sessionId)
        this.children.add(child);
      if (!this.children.has(child) || !event.type.startsWith("permission.")) return false;
    }
    this.lastActivity = Date.now();
    switch (event.type) {
      case "message.updated":
        this.onMessage(p.info as MessageInfo);
        return false;
      case "message.part.updated":
        await this.onPart(p.part as Part);
        return false;
      case "message.part.delta":
        await this.onDelta(p as { messageID: string; partID: string; field: string; delta: string });
        return false;
      case "permission.asked": {
        const asked = p as { id: string; permission: string; patterns?: string[]; metadata?: unknown };
        await this.emit({
          type: "permission_request",
          permission_id: asked.id,
          tool: asked.permission,
          input: asked.metadata ?? {},
          ...(asked.patterns?.length ? { title: asked.patterns.join("\n") } : {}),
        });
        return false;
      }
      case "permission.replied": {
        const replied = p as { requestID: string; reply: PermissionReply };
        await this.emit({ type: "permission_reply", permission_id: replied.requestID, reply: replied.reply });
        return false;
      }
      case "session.error":
        this.sessionError = (p.error as OpencodeError | undefined) ?? { name: "UnknownError" };
        this.started = true;
        return false;
      case "session.status": {
        const status = (p.status as { type?: string } | undefined)?.type;
        if (status === "idle") return this.started;
        this.started = true;
        return false;
      }
      case "session.idle":
        return this.started;
      default:
        return false;
    }
  }

  private onMessage(info: MessageInfo) {
    if (this.past.has(info.id)) return;
    this.roles.set(info.id, info.role);
    this.started = true;
    if (info.role === "assistant") this.assistants.set(info.id, info);
  }

  /** opencode echoes the user's message as parts too: only assistant parts of this turn count. */
  private isAssistantPart(messageId: string): boolean {
    return !this.past.has(messageId) && this.roles.get(messageId) === "assistant";
  }

  private async onPart(part: Part) {
    if (!this.isAssistantPart(part.messageID)) return;
    if (part.type === "text" || part.type === "reasoning") {
      if (part.type === "text" && (part.synthetic || part.ignored)) return;
      this.partKinds.set(part.id, part.type);
      if (part.time?.end !== undefined) await this.settle(part.id, part.type, part.text);
    } else if (part.type === "tool") {
      await this.onTool(part.callID, part.tool, part.state);
    }
  }

  private async settle(partId: string, kind: "text" | "reasoning", text: string) {
    if (this.settled.has(partId)) return;
    this.settled.add(partId);
    if (text === "") return;
    await this.emit({ type: kind === "text" ? "assistant_text" : "thinking", part_id: partId, text });
  }

  private async onDelta(delta: { messageID: string; partID: string; field: string; delta: string }) {
    if (delta.field !== "text" || !this.isAssistantPart(delta.messageID)) return;
    const kind = this.partKinds.get(delta.partID);
    if (!kind || this.settled.has(delta.partID) || delta.delta === "") return;
    this.streamed.set(delta.partID, (this.streamed.get(delta.partID) ?? "") + delta.delta);
    await this.emit({
      type: kind === "text" ? "assistant_delta" : "thinking_delta",
      part_id: delta.partID,
      text: delta.delta,
    });
  }

  /** A pending tool's input is still streaming ({}), so the call is announced once it runs. */
  private async onTool(callId: string, tool: string, state: ToolState) {
    if (state.status === "pending") return;
    this.toolNames.set(callId, tool);
    if (!this.called.has(callId)) {
      this.called.add(callId);
      await this.emit({ type: "tool_call", call_id: callId, tool, input: state.input });
    }
    if (this.answered.has(callId)) return;
    if (state.status === "completed") {
      this.answered.add(callId);
      await this.emit({ type: "tool_result", call_id: callId, tool, output: state.output, is_error: false });
    } else if (state.status === "error") {
      this.answered.add(callId);
      await this.emit({ type: "tool_result", call_id: callId, tool, output: state.error, is_error: true });
    }
  }

  /** Settles what a cut-off turn left open: streamed text becomes its final part, open tools fail. */
  async flush() {
    for (const [partId, text] of this.streamed) {
      await this.settle(partId, this.partKinds.get(partId) ?? "text", text);
    }
    for (const callId of this.called) {
      if (this.answered.has(callId)) continue;
      this.answered.add(callId);
      await this.emit({
        type: "tool_result",
        call_id: callId,
        tool: this.toolNames.get(callId) ?? "unknown",
        output: "The turn ended before the tool finished.",
        is_error: true,
      });
    }
  }

  /** Replays the turn from GET /session/{id}/message: the messages after the last user prompt. */
  async replay(history: { info: MessageInfo; parts: Part[] }[]) {
    const lastPrompt = history.findLastIndex((m) => m.info.role === "user");
    for (const message of history.slice(lastPrompt + 1)) {
      this.onMessage(message.info);
      for (const part of message.parts) await this.onPart(part);
    }
  }

  tokens(): TokenUsage {
    const sum: Required<TokenUsage> = { input: 0, output: 0, reasoning: 0, cache_read: 0, cache_write: 0 };
    for (const { tokens } of this.assistants.values()) {
      if (!tokens) continue;
      sum.input += tokens.input;
      sum.output += tokens.output;
      sum.reasoning += tokens.reasoning;
      sum.cache_read += tokens.cache.read;
      sum.cache_write += tokens.cache.write;
    }
    return sum;
  }

  cost(): number | null {
    if (this.assistants.size === 0) return null;
    return [...this.assistants.values()].reduce((total, info) => total + (info.cost ?? 0), 0);
  }

  outcome(): Outcome {
    if (this.sessionError) return outcomeOfError(this.sessionError);
    const last = [...this.assistants.values()].at(-1);
    if (!last) return { finish: "error", error: "opencode ended the turn without an answer." };
    if (last.error) return outcomeOfError(last.error);
    return outcomeOfFinish(last.finish);
  }
}

/**
 * Opens (or resumes, when `harnessSessionId` still exists on the server) an opencode session. Rejects
 * with OpencodeUnavailableError when the server does not answer on `socketPath`.
 */
export async function createOpencodeSession(options: HarnessSessionOptions): Promise<HarnessSession> {
  if (!options.socketPath || options.password === undefined) {
    throw new Error("The opencode adapter needs the server's socketPath and password.");
  }
  const client = new OpencodeClient(options.socketPath, options.password);
  const sessionId = await openSession(client, options.harnessSessionId);
  const roles = new Map<string, MessageInfo["role"]>();
  let running = false;
  let closed = false;
  let activeInbox: Inbox<InboxItem> | null = null;

  async function turn({ text, emit, signal }: TurnInput): Promise<TurnSummary> {
    if (closed) throw new Error("This opencode session is closed.");
    if (running) throw new Error("A turn is already running in this opencode session.");
    running = true;
    const mapper = new TurnMapper(sessionId, emit, roles, new Set(roles.keys()));
    const inbox = new Inbox<InboxItem>();
    const onAbort = () => inbox.push({ kind: "abort" });
    let stream: Stream | null = null;
    let aborted = signal.aborted;

    const summary = (failure?: string): TurnSummary => {
      const outcome: Outcome = aborted
        ? { finish: "aborted" }
        : failure
          ? { finish: "error", error: failure }
          : mapper.outcome();
      return { ...outcome, tokens: mapper.tokens(), cost_usd: mapper.cost(), harnessSessionId: sessionId };
    };
    const isIdle = async () => {
      const statuses = await client.call<Record<string, { type: string }>>("GET", "/session/status");
      return (statuses[sessionId]?.type ?? "idle") === "idle";
    };
    const replay = async () => {
      const path = `/session/${encodeURIComponent(sessionId)}/message`;
      await mapper.replay(await client.call<{ info: MessageInfo; parts: Part[] }[]>("GET", path));
    };
    /** After an abort or error, reads the settling parts until the second idle or SETTLE_MS. */
    const settle = async () => {
      const until = Date.now() + SETTLE_MS;
      for (;;) {
        const item = await inbox.next(until - Date.now());
        if (item?.kind !== "event") return;
        if (await mapper.handle(item.event)) return;
      }
    };

    try {
      if (aborted) return summary();
      activeInbox = inbox;
      stream = await client.subscribe(inbox.push);
      if (signal.aborted) {
        aborted = true;
        return summary();
      }
      signal.addEventListener("abort", onAbort, { once: true });
      await client.call("POST", `/session/${encodeURIComponent(sessionId)}/prompt_async`, {
        parts: [{ type: "text", text }],
        model: { providerID: OPENCODE_PROVIDER, modelID: options.model },
      });

      // A stream that reconnected is trusted again once it carries more than its first event.
      let healthy = true;
      let abortDeadline: number | null = null;
      for (;;) {
        const pollAt = mapper.lastActivity + STATUS_POLL_MS;
        const item = await inbox.next(Math.min(pollAt, abortDeadline ?? Infinity) - Date.now());
        if (item === null) {
          if (abortDeadline !== null && Date.now() >= abortDeadline) break;
          if (Date.now() >= pollAt) {
            mapper.lastActivity = Date.now();
            if (await isIdle()) {
              await replay();
              break;
            }
          }
          continue;
        }
        if (item.kind === "shutdown") return summary("The opencode adapter was closed during the turn.");
        if (item.kind === "abort") {
          if (abortDeadline === null) {
            aborted = true;
            abortDeadline = Date.now() + ABORT_WAIT_MS;
            void client.request("POST", `/session/${encodeURIComponent(sessionId)}/abort`).catch(() => {});
          }
          continue;
        }
        if (item.stream !== stream) continue;
        if (item.kind === "closed") {
          if (item.fatal) throw new OpencodeTooLargeError("an event", OPENCODE_SSE_EVENT_MAX);
          if (!healthy) throw new OpencodeUnavailableError(item.reason);
          stream = await client.subscribe(inbox.push);
          healthy = false;
          // Events were lost while disconnected: if the turn ended meanwhile, the history has it.
          if (mapper.started && (await isIdle())) {
            await replay();
            break;
          }
          continue;
        }
        if (item.event.type !== "server.connected") healthy = true;
        if (await mapper.handle(item.event)) {
          if (aborted || mapper.sessionError) await settle();
          break;
        }
      }
      await mapper.flush();
      return summary();
    } catch (err) {
      // Failures of opencode end the turn; anything else (emit failing) is the caller's to handle.
      if (
        err instanceof OpencodeUnavailableError ||
        err instanceof OpencodeRequestError ||
        err instanceof OpencodeTooLargeError
      ) {
        await mapper.flush();
        return summary(err.message);
      }
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
      stream?.close();
      activeInbox = null;
      running = false;
    }
  }

  return {
    turn,
    async answerPermission(permissionId: string, reply: PermissionReply) {
      await client.call("POST", `/permission/${encodeURIComponent(permissionId)}/reply`, { reply });
    },
    async close() {
      closed = true;
      activeInbox?.push({ kind: "shutdown" });
      client.closeStreams();
    },
  };
}

async function openSession(client: OpencodeClient, resumeId: string | null): Promise<string> {
  if (resumeId) {
    const found = await client.request("GET", `/session/${encodeURIComponent(resumeId)}`);
    if (found.status === 200) return resumeId;
    if (found.status !== 404) {
      throw new Error(
        `opencode answered ${found.status} to GET /session/${resumeId}: ${messageOf(found.body)}`,
      );
    }
  }
  const created = await client.call<{ id: string }>("POST", "/session", { title: SESSION_TITLE });
  return created.id;
}
