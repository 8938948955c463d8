import {
  getSessionRow,
  listSessionEvents,
  listSessionEventsDesc,
  unansweredPendingMessage,
} from "@/db/queries/sessions";
import type { SseFrame } from "@/lib/api/sse";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors";
import type { ManagedEvent, SendEventsInput } from "@/lib/schemas/managed-session";
import { appendEvent, lastSeq, subscribe } from "@/lib/sessions/events";
import { abortTurn, answerPermission, sendPendingPrompt, startTurn } from "@/lib/sessions/messaging";

import { eventId, EventMapper, seqOfEventId } from "./events";

/*
 * /v1/sessions/{id}/events: send, list and stream. Sending maps onto Hangar's turns (a message starts
 * one, an interrupt aborts it, a tool confirmation answers its permission request); listing and
 * streaming read the session log through EventMapper.
 */

type SendEvent = SendEventsInput["events"][number];

const now = () => new Date().toISOString();

function textOf(event: Extract<SendEvent, { type: "user.message" }>): string {
  return event.content.map((block) => ("text" in block ? String(block.text) : "")).join("\n");
}

/** A message sent while the sandbox boots waits for it, as an initial prompt does (one at a time). */
async function queueWhileStarting(sessionId: string, text: string): Promise<number> {
  if (await unansweredPendingMessage(sessionId)) {
    throw new ConflictError(`session ${sessionId} is still starting and already has a message waiting`);
  }
  const event = await appendEvent(sessionId, "user_message", { text, pending: true });
  // The sandbox may have become ready meanwhile, after it looked for a waiting message.
  if ((await getSessionRow(sessionId)).status === "ready") void sendPendingPrompt(sessionId);
  return event.seq;
}

async function sendMessage(sessionId: string, text: string): Promise<number> {
  const row = await getSessionRow(sessionId);
  if (row.status === "creating") return queueWhileStarting(sessionId, text);
  const turn = await startTurn(sessionId, text);
  return turn.fromSeq + 1;
}

/** The permission a tool_use_id stands for: the tool call's id, or the request's own. */
async function permissionOf(sessionId: string, toolUseId: string): Promise<string> {
  if (toolUseId.startsWith("sevt_call_")) return toolUseId.slice("sevt_call_".length);
  const seq = seqOfEventId(toolUseId);
  const [event] = seq === null ? [] : await listSessionEvents(sessionId, seq - 1, 1);
  if (event?.seq === seq && event.type === "tool_call") return String(event.data.call_id);
  if (event?.seq === seq && event.type === "permission_request") return String(event.data.permission_id);
  throw new NotFoundError(`no tool use ${toolUseId} in session ${sessionId}`);
}

export async function sendEvents(
  sessionId: string,
  input: SendEventsInput,
): Promise<{ data: ManagedEvent[] }> {
  const data: ManagedEvent[] = [];
  for (const event of input.events) {
    if (event.type === "user.message") {
      const seq = await sendMessage(sessionId, textOf(event));
      data.push({ id: eventId(seq), type: "user.message", content: event.content, processed_at: now() });
    } else if (event.type === "user.interrupt") {
      await abortTurn(sessionId);
      data.push({ id: `sevt_interrupt_${Date.now()}`, type: "user.interrupt", processed_at: now() });
    } else if (event.type === "user.tool_confirmation") {
      const permission = await permissionOf(sessionId, event.tool_use_id);
      await answerPermission(sessionId, permission, event.result === "allow" ? "once" : "reject");
      data.push({
        id: `sevt_confirm_${Date.now()}`,
        type: "user.tool_confirmation",
        tool_use_id: event.tool_use_id,
        result: event.result,
        processed_at: now(),
      });
    } else {
      throw new ValidationError(`${event.type} is not supported by Hangar`, []);
    }
  }
  return { data };
}

const SCAN_BATCH = 500;
/** A listing reads at most this many log events per page, however few of them a type filter keeps. */
const SCAN_MAX = 5000;

function decodeEventCursor(page: string | undefined): number | null {
  if (!page) return null;
  const m = /^page_e(\d{1,12})$/.exec(page);
  if (!m) throw new ValidationError("page: not a cursor this list gave out", []);
  return Number(m[1]);
}

export async function listEvents(
  sessionId: string,
  query: { limit: number; page?: string; order: "asc" | "desc"; types?: string | string[] },
): Promise<{ data: ManagedEvent[]; next_page: string | null }> {
  await getSessionRow(sessionId);
  const types = query.types === undefined ? null : new Set([query.types].flat());
  const mapper = new EventMapper(sessionId);
  const data: ManagedEvent[] = [];
  let cursor = decodeEventCursor(query.page);
  let scanned = 0;
  // Whether log events may remain past the cursor: false once a short batch was read to its end.
  let more = true;
  while (data.length < query.limit && scanned < SCAN_MAX) {
    const batch =
      query.order === "asc"
        ? await listSessionEvents(sessionId, cursor ?? 0, SCAN_BATCH)
        : await listSessionEventsDesc(sessionId, cursor, SCAN_BATCH);
    let read = 0;
    for (const event of batch) {
      read++;
      scanned++;
      cursor = event.seq;
      const mapped = await mapper.map(event);
      const ordered = query.order === "asc" ? mapped : mapped.reverse();
      data.push(...ordered.filter((e) => !types || types.has(e.type)));
      if (data.length >= query.limit) break;
    }
    if (batch.length < SCAN_BATCH && read === batch.length) {
      more = false;
      break;
    }
  }
  return { data, next_page: more && cursor !== null ? `page_e${cursor}` : null };
}

/** Where a stream resumes: after the facade event Last-Event-ID names, else from now. */
async function resumeFrom(sessionId: string, lastEventId: string | null, after: number | undefined) {
  const m = lastEventId ? /^sevt_(\d{1,12})(?:_(\d{1,3}))?$/.exec(lastEventId.trim()) : null;
  if (m) return { afterSeq: Number(m[1]) - 1, skipThrough: { seq: Number(m[1]), n: Number(m[2] ?? 0) } };
  if (after !== undefined) return { afterSeq: after, skipThrough: null };
  return { afterSeq: await lastSeq(sessionId), skipThrough: null };
}

/**
 * The session's events as SSE frames, each with `event: <type>` and `id: <event id>`, live. Where
 * it starts is settled here, before the answer goes out: a client that sends a message as soon as
 * the stream is open sees that message.
 */
export async function openEventStream(
  sessionId: string,
  lastEventId: string | null,
  after: number | undefined,
  signal: AbortSignal,
): Promise<AsyncGenerator<SseFrame>> {
  await getSessionRow(sessionId);
  const { afterSeq, skipThrough } = await resumeFrom(sessionId, lastEventId, after);
  const mapper = new EventMapper(sessionId);
  return (async function* () {
    for await (const event of subscribe(sessionId, afterSeq, signal)) {
      const mapped = await mapper.map(event);
      for (const [n, facade] of mapped.entries()) {
        if (skipThrough && event.seq === skipThrough.seq && n <= skipThrough.n) continue;
        yield { id: facade.id, event: facade.type, data: facade };
      }
    }
  })();
}
