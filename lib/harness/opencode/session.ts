import { OPENCODE_SSE_EVENT_MAX } from "@/lib/bounds";

import type { HarnessSession, HarnessSessionOptions, PermissionReply, TurnInput, TurnSummary } from "../turn";
import {
  messageOf,
  OpencodeClient,
  OpencodeRequestError,
  OpencodeTooLargeError,
  OpencodeUnavailableError,
  type InboxItem,
  type Stream,
} from "./client";
import { OPENCODE_PROVIDER } from "./launch";
import { TurnMapper, type Outcome } from "./turn-mapper";
import type { MessageInfo, Part } from "./wire";

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
/** With no event for the session this long, ask opencode whether the turn is still running. */
const STATUS_POLL_MS = 30_000;
/** How long an aborted turn waits for opencode to go idle before it resolves anyway. */
const ABORT_WAIT_MS = 5_000;
/** After an abort or an error, opencode settles the interrupted parts just after session.idle. */
const SETTLE_MS = 500;

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

/** One turn: the prompt posted, then the session's events mapped until opencode goes idle again. */
class OpencodeTurn {
  readonly inbox = new Inbox<InboxItem>();
  private stream: Stream | null = null;
  private aborted: boolean;

  constructor(
    private readonly client: OpencodeClient,
    private readonly sessionId: string,
    private readonly model: string,
    private readonly mapper: TurnMapper,
    private readonly signal: AbortSignal,
  ) {
    this.aborted = signal.aborted;
  }

  async run(text: string): Promise<TurnSummary> {
    const onAbort = () => this.inbox.push({ kind: "abort" });
    try {
      if (this.aborted) return this.summary();
      this.stream = await this.client.subscribe(this.inbox.push);
      if (this.signal.aborted) {
        this.aborted = true;
        return this.summary();
      }
      this.signal.addEventListener("abort", onAbort, { once: true });
      await this.client.call("POST", `/session/${encodeURIComponent(this.sessionId)}/prompt_async`, {
        parts: [{ type: "text", text }],
        model: { providerID: OPENCODE_PROVIDER, modelID: this.model },
      });
      const shutdown = await this.untilEnd();
      if (shutdown) return this.summary(shutdown);
      await this.mapper.flush();
      return this.summary();
    } catch (err) {
      // Failures of opencode end the turn; anything else (emit failing) is the caller's to handle.
      if (
        err instanceof OpencodeUnavailableError ||
        err instanceof OpencodeRequestError ||
        err instanceof OpencodeTooLargeError
      ) {
        await this.mapper.flush();
        return this.summary(err.message);
      }
      throw err;
    } finally {
      this.signal.removeEventListener("abort", onAbort);
      this.stream?.close();
    }
  }

  /** Reads the inbox until the turn ends; the reason when the adapter was closed during it. */
  private async untilEnd(): Promise<string | null> {
    // A stream that reconnected is trusted again once it carries more than its first event.
    let healthy = true;
    let abortDeadline: number | null = null;
    for (;;) {
      const pollAt = this.mapper.lastActivity + STATUS_POLL_MS;
      const item = await this.inbox.next(Math.min(pollAt, abortDeadline ?? Infinity) - Date.now());
      if (item === null) {
        if (abortDeadline !== null && Date.now() >= abortDeadline) return null;
        if (Date.now() >= pollAt) {
          this.mapper.lastActivity = Date.now();
          if (await this.isIdle()) {
            await this.replay();
            return null;
          }
        }
        continue;
      }
      if (item.kind === "shutdown") return "The opencode adapter was closed during the turn.";
      if (item.kind === "abort") {
        if (abortDeadline === null) {
          this.aborted = true;
          abortDeadline = Date.now() + ABORT_WAIT_MS;
          const abort = `/session/${encodeURIComponent(this.sessionId)}/abort`;
          void this.client.request("POST", abort).catch(() => {});
        }
        continue;
      }
      if (item.stream !== this.stream) continue;
      if (item.kind === "closed") {
        if (item.fatal) throw new OpencodeTooLargeError("an event", OPENCODE_SSE_EVENT_MAX);
        if (!healthy) throw new OpencodeUnavailableError(item.reason);
        this.stream = await this.client.subscribe(this.inbox.push);
        healthy = false;
        // Events were lost while disconnected: if the turn ended meanwhile, the history has it.
        if (this.mapper.started && (await this.isIdle())) {
          await this.replay();
          return null;
        }
        continue;
      }
      if (item.event.type !== "server.connected") healthy = true;
      if (await this.mapper.handle(item.event)) {
        if (this.aborted || this.mapper.sessionError) await this.settle();
        return null;
      }
    }
  }

  private summary(failure?: string): TurnSummary {
    const mapper = this.mapper;
    const outcome: Outcome = this.aborted
      ? { finish: "aborted" }
      : failure
        ? { finish: "error", error: failure }
        : mapper.outcome();
    return { ...outcome, tokens: mapper.tokens(), cost_usd: mapper.cost(), harnessSessionId: this.sessionId };
  }

  private async isIdle(): Promise<boolean> {
    const statuses = await this.client.call<Record<string, { type: string }>>("GET", "/session/status");
    return (statuses[this.sessionId]?.type ?? "idle") === "idle";
  }

  private async replay() {
    const path = `/session/${encodeURIComponent(this.sessionId)}/message`;
    await this.mapper.replay(await this.client.call<{ info: MessageInfo; parts: Part[] }[]>("GET", path));
  }

  /** After an abort or error, reads the settling parts until the second idle or SETTLE_MS. */
  private async settle() {
    const until = Date.now() + SETTLE_MS;
    for (;;) {
      const item = await this.inbox.next(until - Date.now());
      if (item?.kind !== "event") return;
      if (await this.mapper.handle(item.event)) return;
    }
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
  let active: OpencodeTurn | null = null;

  return {
    async turn({ text, emit, signal }: TurnInput): Promise<TurnSummary> {
      if (closed) throw new Error("This opencode session is closed.");
      if (running) throw new Error("A turn is already running in this opencode session.");
      running = true;
      const mapper = new TurnMapper(sessionId, emit, roles, new Set(roles.keys()));
      const current = new OpencodeTurn(client, sessionId, options.model, mapper, signal);
      active = current;
      try {
        return await current.run(text);
      } finally {
        active = null;
        running = false;
      }
    },
    async answerPermission(permissionId: string, reply: PermissionReply) {
      await client.call("POST", `/permission/${encodeURIComponent(permissionId)}/reply`, { reply });
    },
    async close() {
      closed = true;
      active?.inbox.push({ kind: "shutdown" });
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
