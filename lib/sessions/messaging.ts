import {
  getSessionRow,
  listSessionEvents,
  openTurn,
  openTurnId,
  permissionPending,
  unansweredPendingMessage,
  updateSession,
} from "@/db/queries/sessions";
import type { sessions } from "@/db/schema";
import { ApiError, asApiError } from "@/lib/api/errors";
import { ConflictError } from "@/lib/errors";
import { harnessOf, type HarnessSession, type PermissionReply, type TurnSummary } from "@/lib/harness";
import { newId } from "@/lib/ids";
import { log } from "@/lib/log";
import { processSlot } from "@/lib/process-slot";
import { runtime } from "@/lib/runtime";
import type { SessionEvent } from "@/lib/schemas/session";
import type { TurnEvent } from "@/lib/schemas/session-event";
import { emptyThread, foldEvents, type Thread } from "@/lib/thread";

import { markActive } from "./activity";
import { appendEvent, readEvents } from "./events";
import { harnessServer } from "./harness-server";
import { sessionManager } from "./manager";
import { listenRelay, relayControl } from "./relay";
import { replicaId } from "./replica";

/*
 * Turns: a user's message goes to the session's harness, and everything the harness does comes back
 * as events in the session's log. One turn runs at a time per session. The log is the only record:
 * GET /messages folds it, and every stream is a view of it, so nothing depends on this process's
 * memory except the running turn itself.
 */

type SessionRow = typeof sessions.$inferSelect;

type LiveTurn = { turnId: string; messageId: string; controller: AbortController; done: Promise<void> };

type Messaging = {
  harnesses: Map<string, Promise<HarnessSession>>;
  turns: Map<string, LiveTurn>;
};

const state = processSlot<Messaging>("messaging", () => ({ harnesses: new Map(), turns: new Map() }));

/** How long an abort relayed to another replica waits for the turn's end to reach the log. */
const RELAY_WAIT_MS = 15_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function openHarness(row: SessionRow): Promise<HarnessSession> {
  // A remote sandbox may have been launched by another replica: open its tunnels on this one.
  await sessionManager().driver.openTunnels?.(row.id);
  const harness = harnessOf(row.config.harnessId);
  if (harness.kind !== "api") {
    throw new ConflictError(
      `${row.config.harnessId} is a terminal harness: talk to it through the session's terminal (/tty)`,
    );
  }
  const driver = sessionManager().driver;
  return harness.openTurnClient({
    model: row.config.model,
    prompt: row.config.prompt ?? "",
    harnessSessionId: row.harnessSessionId,
    mcpServers: row.config.mcpServers ?? [],
    ...(row.config.permissions && { permissions: row.config.permissions }),
    server: harnessServer(row.id),
    spawnInSandbox: (argv, options) => driver.spawn(row.id, argv, options),
  });
}

function harnessFor(row: SessionRow): Promise<HarnessSession> {
  let harness = state.harnesses.get(row.id);
  if (!harness) {
    harness = openHarness(row);
    state.harnesses.set(row.id, harness);
    harness.catch(() => state.harnesses.delete(row.id));
  }
  return harness;
}

function assertCanTalk(row: SessionRow) {
  if (row.supportsTui) {
    throw new ConflictError(
      `${row.config.harnessId} is a terminal harness: talk to it through the session's terminal (/tty)`,
    );
  }
  if (row.status === "creating") {
    throw new ConflictError(`session ${row.id} is still starting (phase ${row.phase ?? "creating_sandbox"})`);
  }
  if (row.status !== "ready") {
    throw new ApiError("gone", `session ${row.id} has ended (${row.status}); restart it to continue`);
  }
}

/**
 * When the harness has no memory of the conversation (a restarted sandbox), the first turn carries
 * the thread so far, so the agent continues where it was.
 */
async function withReplay(row: SessionRow, text: string, beforeSeq: number): Promise<string> {
  if (row.harnessSessionId) return text;
  const thread = await readThread(row.id, row.config.model, beforeSeq);
  const earlier = thread.messages.filter((m) => m.info.role === "user" || m.info.time.completed);
  if (earlier.length === 0) return text;
  const transcript = earlier
    .map((m) => {
      const body = m.parts
        .map((p) =>
          p.type === "text"
            ? p.text
            : p.type === "tool"
              ? `[${p.tool}: ${JSON.stringify(p.state.input)}]`
              : "",
        )
        .filter(Boolean)
        .join("\n");
      return `<${m.info.role}>\n${body}\n</${m.info.role}>`;
    })
    .join("\n");
  return (
    `<previous_conversation>\nThis session was restarted in a fresh sandbox; files and processes from ` +
    `before are gone. The conversation so far:\n${transcript}\n</previous_conversation>\n\n${text}`
  );
}

export type StartedTurn = {
  turnId: string;
  messageId: string;
  /** The seq just before the turn's first event: a stream from here shows the whole turn. */
  fromSeq: number;
  model: string;
  done: Promise<void>;
};

/**
 * Starts a turn and returns once its user message is in the log; the turn runs on in the background
 * (`done`). `pending` is the seq of a user_message logged earlier (initial_prompt) to answer instead.
 */
export async function startTurn(
  sessionId: string,
  text: string,
  pending?: SessionEvent,
): Promise<StartedTurn> {
  if (state.turns.has(sessionId)) {
    throw new ConflictError(`a turn is already running in session ${sessionId}; wait for it or POST /abort`);
  }
  const turnId = newId("turn");
  const messageId = newId("message");
  const controller = new AbortController();
  const live: LiveTurn = { turnId, messageId, controller, done: Promise.resolve() };
  state.turns.set(sessionId, live); // claimed before any await: a concurrent second turn gets 409
  try {
    // Another replica may be running a turn of this session: its turn_started is in the log. (An
    // embedded database has one process: the check above is the whole story.) Both reads at once.
    const [row, openElsewhere] = await Promise.all([
      getSessionRow(sessionId),
      runtime().listen ? openTurnId(sessionId) : null,
    ]);
    assertCanTalk(row);
    if (openElsewhere) {
      throw new ConflictError(
        `a turn is already running in session ${sessionId}; wait for it or POST /abort`,
      );
    }
    const userMessageId =
      typeof pending?.data.message_id === "string" ? pending.data.message_id : newId("message");
    // Queued together, so both go into the log in one write.
    const user = pending
      ? Promise.resolve(pending)
      : appendEvent(sessionId, "user_message", { message_id: userMessageId, text });
    const started = appendEvent(sessionId, "turn_started", {
      turn_id: turnId,
      message_id: messageId,
      user_message_id: userMessageId,
      // Which process runs it: another replica closes it only once this one stops beating.
      replica: replicaId(),
      ...(pending && { user_message_seq: pending.seq }),
    });
    void markActive(sessionId).catch(() => undefined);
    const logged = Promise.all([user, started]);
    // A harness that remembers the conversation starts while the turn's start is being written: its
    // events queue behind it, so the log's order is the same either way.
    const prompt = row.harnessSessionId
      ? Promise.resolve(text)
      : logged.then(([userEvent]) => withReplay(row, text, userEvent.seq));
    live.done = prompt
      .then((full) => runTurn(row, live, full))
      .finally(() => {
        if (state.turns.get(sessionId) === live) state.turns.delete(sessionId);
      });
    try {
      const [userEvent] = await logged;
      return { turnId, messageId, model: row.config.model, fromSeq: userEvent.seq - 1, done: live.done };
    } catch (err) {
      // The start is not in the log: the turn does not go on without it.
      controller.abort();
      await live.done.catch(() => undefined);
      throw err;
    }
  } catch (err) {
    state.turns.delete(sessionId);
    throw err;
  }
}

async function runTurn(row: SessionRow, live: LiveTurn, text: string): Promise<void> {
  const sessionId = row.id;
  const started = Date.now();
  const ids = { turn_id: live.turnId, message_id: live.messageId };
  const stallMs = runtime().config.HANGAR_TURN_STALL_SECONDS * 1000;
  let quietSince = Date.now();
  const watchdog = setInterval(
    () => {
      const quiet = Date.now() - quietSince;
      if (quiet < stallMs) return;
      quietSince = Date.now();
      void appendEvent(sessionId, "stalled", { ...ids, quiet_ms: quiet }).catch(() => undefined);
    },
    Math.min(stallMs, 1000),
  );
  let summary: TurnSummary;
  try {
    const harness = await harnessFor(row);
    summary = await harness.turn({
      text,
      signal: live.controller.signal,
      // The log write is queued, not awaited: appends keep their order, and a burst of deltas goes
      // out in a few statements while the harness streams on. The turn's end, appended after them,
      // resolves only once they are all committed.
      emit: async (event: TurnEvent) => {
        quietSince = Date.now();
        const { type, ...data } = event;
        void appendEvent(sessionId, type, { ...data, ...ids }).catch((err: unknown) =>
          log.error("turn event not logged", { sessionId, type, err }),
        );
      },
    });
  } catch (err) {
    const message = asApiError(err)?.message ?? `the harness failed: ${(err as Error).message}`;
    log.warn("turn failed", { sessionId, turnId: live.turnId, error: (err as Error).message });
    summary = {
      finish: "error",
      error: message,
      tokens: { input: 0, output: 0 },
      cost_usd: null,
      harnessSessionId: null,
    };
  } finally {
    clearInterval(watchdog);
  }
  // Before the turn's end: the next turn, sent as soon as a client sees it, must find the id.
  if (summary.harnessSessionId && summary.harnessSessionId !== row.harnessSessionId) {
    await updateSession(sessionId, { harnessSessionId: summary.harnessSessionId });
  }
  void markActive(sessionId).catch(() => undefined);
  if (summary.finish === "error") {
    await appendEvent(sessionId, "turn_error", { ...ids, message: summary.error ?? "the turn failed" });
  } else {
    await appendEvent(sessionId, "turn_complete", {
      ...ids,
      finish: summary.finish,
      tokens: summary.tokens,
      cost_usd: summary.cost_usd,
      duration_ms: Date.now() - started,
    });
  }
}

/** Stops the running turn, if any; the turn ends with finish "aborted". */
export async function abortTurn(sessionId: string): Promise<boolean> {
  if (await abortLocalTurn(sessionId)) return true;
  // The turn may run in another replica: ask it, then wait for the end to reach the log.
  const open = await openTurnId(sessionId);
  if (!open || !(await relayControl({ type: "abort", sessionId }))) return false;
  const deadline = Date.now() + RELAY_WAIT_MS;
  while (Date.now() < deadline && (await openTurnId(sessionId)) === open) await sleep(50);
  return true;
}

async function abortLocalTurn(sessionId: string): Promise<boolean> {
  const live = state.turns.get(sessionId);
  if (!live) return false;
  live.controller.abort();
  await live.done.catch(() => undefined);
  return true;
}

export async function answerPermission(sessionId: string, permissionId: string, reply: PermissionReply) {
  if (await answerLocalPermission(sessionId, permissionId, reply)) return;
  if (
    !(await permissionPending(sessionId, permissionId)) ||
    !(await relayControl({ type: "permission", sessionId, permissionId, reply }))
  )
    throw new ConflictError(`no turn of session ${sessionId} is waiting for a permission`);
}

async function answerLocalPermission(sessionId: string, permissionId: string, reply: PermissionReply) {
  const live = state.turns.get(sessionId);
  const harness = state.harnesses.get(sessionId);
  if (!live || !harness) return false;
  // The adapter emits permission_reply when the harness confirms it, so the log has it once.
  await (await harness).answerPermission(permissionId, reply);
  return true;
}

/** Called once at start: act on aborts and permission answers other replicas relay. */
export function listenForRelayedControl() {
  return listenRelay({ abort: abortLocalTurn, permission: answerLocalPermission });
}

/**
 * A turn's user message and reply, folded from the log from `fromSeq` on (this process's copy of the
 * latest events when it has them all, so a turn that just ended here is answered without a query).
 */
export async function readTurn(sessionId: string, model: string, fromSeq: number): Promise<Thread> {
  const thread = emptyThread(sessionId, model);
  thread.lastSeq = fromSeq;
  return foldEvents(thread, await readEvents(sessionId, fromSeq));
}

/** The thread folded from the log, up to `beforeSeq` (exclusive) when given. */
export async function readThread(sessionId: string, model: string, beforeSeq = Infinity): Promise<Thread> {
  const thread = emptyThread(sessionId, model);
  for (let after = 0; ;) {
    const page = await listSessionEvents(sessionId, after, 1000);
    foldEvents(
      thread,
      page.filter((e) => e.seq < beforeSeq),
    );
    if (page.length < 1000 || (page.at(-1)?.seq ?? 0) >= beforeSeq) break;
    after = page.at(-1)!.seq;
  }
  return thread;
}

/** A session's sandbox went away: end its turn and drop the connection to its harness. */
export async function releaseHarness(sessionId: string, reason: string) {
  const live = state.turns.get(sessionId);
  if (live) {
    live.controller.abort(new Error(reason));
    await live.done.catch(() => undefined);
  }
  const harness = state.harnesses.get(sessionId);
  state.harnesses.delete(sessionId);
  if (harness) await (await harness.catch(() => null))?.close().catch(() => undefined);
}

/**
 * After a Hangar restart: a turn with a start but no end was cut off with this process's predecessor.
 * It gets an explicit end, so no stream waits for it forever.
 */
export async function closeInterruptedTurns(sessionId: string) {
  const open = new Map<string, string>();
  for (let after = 0; ;) {
    const page = await listSessionEvents(sessionId, after, 1000);
    for (const e of page) {
      const turnId = String(e.data.turn_id ?? "");
      if (e.type === "turn_started") open.set(turnId, String(e.data.message_id ?? ""));
      else if (e.type === "turn_complete" || e.type === "turn_error") open.delete(turnId);
    }
    if (page.length < 1000) break;
    after = page.at(-1)!.seq;
  }
  for (const [turnId, messageId] of open) {
    if (state.turns.get(sessionId)?.turnId === turnId) continue;
    await appendEvent(sessionId, "turn_error", {
      turn_id: turnId,
      message_id: messageId,
      message: "Hangar restarted while this turn was running; send the message again to continue",
    });
  }
}

/**
 * Several replicas: closes the session's open turn only when the replica running it has stopped
 * (no heartbeat); a turn another live replica runs is left alone.
 */
export async function closeTurnOfGoneReplica(sessionId: string, alive: Set<string>) {
  const open = await openTurn(sessionId);
  if (!open || state.turns.get(sessionId)?.turnId === open.turnId) return;
  if (open.replica && alive.has(open.replica)) return;
  await appendEvent(sessionId, "turn_error", {
    turn_id: open.turnId,
    message_id: open.messageId,
    message: "the Hangar replica running this turn stopped; send the message again to continue",
  });
}

/**
 * A ready session answers the message that waited for its sandbox first: the create's initial
 * prompt, or one sent while it booted (the Managed Agents API queues one so).
 */
export async function sendPendingPrompt(sessionId: string) {
  const pending = await unansweredPendingMessage(sessionId);
  if (!pending) return;
  await startTurn(sessionId, String(pending.data.text ?? ""), pending).catch((err: unknown) =>
    log.warn("initial prompt not sent", { sessionId, error: (err as Error).message }),
  );
}

export function runningTurn(sessionId: string): { turnId: string; messageId: string } | null {
  const live = state.turns.get(sessionId);
  return live ? { turnId: live.turnId, messageId: live.messageId } : null;
}
