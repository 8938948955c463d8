import { and, asc, count, desc, eq, gt, inArray, isNull, lt, sql, type SQL } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import {
  sessionEvents,
  sessionFiles,
  sessions,
  type SessionConfig,
  type SessionSandbox,
  type SessionTimings,
} from "@/db/schema";
import { NotFoundError } from "@/lib/errors";
import type { ManagedSessionListQuery } from "@/lib/schemas/managed-session";
import type { SessionEvent, SessionListQuery, SessionStatus } from "@/lib/schemas/session";

import { decodeCursor, iso, readPage, toCursorPage } from "./_util";
import { forgetSessionScope, type Reach } from "./scope";

export type SessionRow = typeof sessions.$inferSelect;

export type NewSession = {
  id: string;
  workspaceId: string;
  agentId: string;
  title: string | null;
  supportsTui: boolean;
  config: SessionConfig;
  envVars: Record<string, string>;
  modelTokenHash: string;
  environmentId?: string | null;
  agentVersion?: number | null;
  metadata?: Record<string, string>;
  vaultIds?: string[];
  spawnMode?: "warm" | "cold";
  files: {
    position: number;
    name: string;
    sandboxPath: string;
    contentType: string;
    size: number;
    sha256: string;
    content: Buffer;
  }[];
};

export async function insertSession(input: NewSession, db: Db = getDb()): Promise<SessionRow> {
  return db.transaction(async (tx) => {
    const { files, ...values } = input;
    const [row] = await tx
      .insert(sessions)
      .values({ ...values, status: "creating", phase: "creating_sandbox" })
      .returning();
    if (files.length) await tx.insert(sessionFiles).values(files.map((f) => ({ ...f, sessionId: input.id })));
    return row as SessionRow;
  });
}

export async function getSessionRow(id: string, db: Db = getDb()): Promise<SessionRow> {
  const [row] = await db.select().from(sessions).where(eq(sessions.id, id));
  if (!row) throw new NotFoundError(`session ${id} not found`);
  return row;
}

/** Newest first; never the event history (that is /log and /events). */
export async function listSessionRows(query: SessionListQuery, reach: Reach, db: Db = getDb()) {
  const filters: SQL[] = [eq(sessions.workspaceId, reach.workspaceId)];
  if (reach.agentIds) filters.push(inArray(sessions.agentId, [...reach.agentIds]));
  if (query.agent_id) filters.push(eq(sessions.agentId, query.agent_id));
  if (query.status) filters.push(eq(sessions.status, query.status));
  const where = and(...filters);
  return readPage(
    query,
    db.select().from(sessions).where(where).orderBy(desc(sessions.createdAt), desc(sessions.id)),
    db.select({ value: count() }).from(sessions).where(where),
  );
}

export async function getSessionFiles(sessionId: string, db: Db = getDb()) {
  return db
    .select()
    .from(sessionFiles)
    .where(eq(sessionFiles.sessionId, sessionId))
    .orderBy(sessionFiles.position);
}

export type SessionPatch = Partial<{
  status: SessionStatus;
  phase: string | null;
  phaseDetail: string | null;
  failureReason: string | null;
  sandbox: SessionSandbox | null;
  timings: SessionTimings;
  readyAt: Date | null;
  stoppedAt: Date | null;
  modelTokenHash: string;
  harnessSessionId: string | null;
  spawnMode: "warm" | "cold";
}>;

/** Updates a session unless it already ended (a late phase report must not revive a dead session). */
export async function updateSession(
  id: string,
  patch: SessionPatch,
  opts: { onlyIfLive?: boolean } = {},
  db: Db = getDb(),
) {
  const where = opts.onlyIfLive
    ? and(eq(sessions.id, id), inArray(sessions.status, ["creating", "ready"]))
    : eq(sessions.id, id);
  const [row] = await db.update(sessions).set(patch).where(where).returning();
  return row ?? null;
}

/** Ends every terminal token minted for the session so far (they are bound to this epoch). */
export async function bumpTtyEpoch(id: string, db: Db = getDb()): Promise<SessionRow> {
  const [row] = await db
    .update(sessions)
    .set({ ttyEpoch: sql`${sessions.ttyEpoch} + 1` })
    .where(eq(sessions.id, id))
    .returning();
  if (!row) throw new NotFoundError(`session ${id} not found`);
  return row;
}

/** Marks use of a session, for the idle reaper. Cheap enough to call on every request. */
export async function touchSession(id: string, db: Db = getDb()) {
  await db.update(sessions).set({ lastSeenAt: new Date() }).where(eq(sessions.id, id));
}

export async function listLiveSessions(db: Db = getDb()) {
  return db
    .select()
    .from(sessions)
    .where(inArray(sessions.status, ["creating", "ready"]));
}

/**
 * The live session a model token belongs to, by the token's SHA-256 (the shared model endpoint of the
 * gateway role); null for an unknown token or an ended session. Served by sessions_model_token_hash_idx.
 */
export async function findLiveSessionIdByModelTokenHash(tokenHash: string, db: Db = getDb()) {
  const [row] = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.modelTokenHash, tokenHash), inArray(sessions.status, ["creating", "ready"])))
    .limit(1);
  return row?.id ?? null;
}

/** The egress rules of a live session (the shared egress proxy); null for an unknown or ended one. */
export async function getLiveSessionEgress(id: string, db: Db = getDb()) {
  const [row] = await db
    .select({ config: sessions.config })
    .from(sessions)
    .where(and(eq(sessions.id, id), inArray(sessions.status, ["creating", "ready"])));
  return row ? { allowOut: row.config.allowOut, denyOut: row.config.denyOut } : null;
}

export async function listIdleSessions(idleSince: Date, db: Db = getDb()) {
  return db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(inArray(sessions.status, ["creating", "ready"]), lt(sessions.lastSeenAt, idleSince)));
}

export async function listLiveSessionIdsForAgent(agentId: string, db: Db = getDb()) {
  const rows = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.agentId, agentId), inArray(sessions.status, ["creating", "ready"])));
  return rows.map((r) => r.id);
}

/** The NOTIFY channel for appended events; the payload is "<session id> <last seq> <origin>". */
export const EVENTS_CHANNEL = "hangar_session_events";

/** 23505: another process appended to the session between our read of its last seq and our insert. */
function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === "23505") return true;
  }
  return false;
}

/** One statement, constant text: the last seq, the rows after it, and (on PostgreSQL) the NOTIFY. */
function appendStatement(sessionId: string, items: string, notify: string | null): SQL {
  const added = sql`with last as (
      select coalesce(max(${sessionEvents.seq}), 0) as seq from ${sessionEvents}
      where ${sessionEvents.sessionId} = ${sessionId}
    ), added as (
      insert into ${sessionEvents} (session_id, seq, type, data)
      select ${sessionId}, last.seq + item.n::int, item.value->>'type', item.value->'data'
      from last, jsonb_array_elements(${items}::jsonb) with ordinality as item(value, n)
      returning seq, created_at
    )`;
  const notified = notify
    ? sql`, pg_notify(${EVENTS_CHANNEL}, ${sessionId}::text || ' ' || max(seq) || ' ' || ${notify})`
    : sql``;
  return sql`${added} select min(seq)::int as first, min(created_at) as at${notified} from added`;
}

/**
 * Appends events, in order, with the next `seq`s of their session, in one statement (one round trip,
 * no explicit transaction): the primary key (session, seq) keeps seqs dense and unique, and a
 * concurrent append by another process makes ours fail on it and try again with the new last seq.
 * `notify` (the appending process's tag) also sends a NOTIFY, delivered on commit, so other processes
 * on the same PostgreSQL serve the events live (see lib/sessions/events).
 */
export async function appendSessionEvents(
  sessionId: string,
  items: { type: string; data: Record<string, unknown> }[],
  notify: string | null = null,
  db: Db = getDb(),
): Promise<SessionEvent[]> {
  const json = items.map((item) => JSON.stringify(item.data ?? {}));
  const payload = `[${items.map((item, i) => `{"type":${JSON.stringify(item.type)},"data":${json[i]}}`).join(",")}]`;
  for (let attempt = 1; ; attempt++) {
    let row: { first: number; at: string | Date } | undefined;
    try {
      const result = await db.execute(appendStatement(sessionId, payload, notify));
      const rows = Array.isArray(result) ? result : (result as { rows: unknown[] }).rows;
      row = rows[0] as typeof row;
    } catch (err) {
      if (attempt < 20 && isUniqueViolation(err)) continue;
      throw err;
    }
    if (!row) throw new Error(`appending to session ${sessionId} returned nothing`);
    const first = Number(row.first);
    const at = iso(new Date(row.at));
    // What a later read of the log returns: the data as JSON carries it.
    return items.map((item, i) => ({ seq: first + i, type: item.type, data: JSON.parse(json[i]!), at }));
  }
}

export async function latestSessionEventSeq(sessionId: string, db: Db = getDb()): Promise<number> {
  const [row] = await db
    .select({ seq: sql<number>`coalesce(max(${sessionEvents.seq}), 0)::int` })
    .from(sessionEvents)
    .where(eq(sessionEvents.sessionId, sessionId));
  return Number(row?.seq ?? 0);
}

export async function listSessionEvents(sessionId: string, after: number, limit: number, db: Db = getDb()) {
  const rows = await db
    .select()
    .from(sessionEvents)
    .where(and(eq(sessionEvents.sessionId, sessionId), gt(sessionEvents.seq, after)))
    .orderBy(sessionEvents.seq)
    .limit(limit);
  return rows.map((row): SessionEvent => ({
    seq: row.seq,
    type: row.type,
    data: row.data,
    at: iso(row.createdAt),
  }));
}

/**
 * The turn still open in a session's log (a `turn_started` with no end after it), whichever process
 * runs it; null when none is.
 */
export async function openTurn(
  sessionId: string,
  db: Db = getDb(),
): Promise<{ turnId: string; messageId: string; replica: string | null } | null> {
  const [last] = await db
    .select({ type: sessionEvents.type, data: sessionEvents.data })
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        inArray(sessionEvents.type, ["turn_started", "turn_complete", "turn_error"]),
      ),
    )
    .orderBy(desc(sessionEvents.seq))
    .limit(1);
  if (last?.type !== "turn_started") return null;
  const data = last.data as { turn_id?: string; message_id?: string; replica?: string };
  return {
    turnId: String(data.turn_id ?? ""),
    messageId: String(data.message_id ?? ""),
    replica: data.replica ?? null,
  };
}

export async function openTurnId(sessionId: string, db: Db = getDb()): Promise<string | null> {
  return (await openTurn(sessionId, db))?.turnId || null;
}

/** Whether a permission request is in the log with no reply yet. */
export async function permissionPending(
  sessionId: string,
  permissionId: string,
  db: Db = getDb(),
): Promise<boolean> {
  const rows = await db
    .select({ type: sessionEvents.type })
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        inArray(sessionEvents.type, ["permission_request", "permission_reply"]),
        sql`${sessionEvents.data}->>'permission_id' = ${permissionId}`,
      ),
    );
  return (
    rows.some((r) => r.type === "permission_request") && !rows.some((r) => r.type === "permission_reply")
  );
}

/** Of `ids`, those of sessions in the workspace (e.g. to filter a log kept outside the database). */
export async function sessionIdsInWorkspace(ids: string[], workspaceId: string, db: Db = getDb()) {
  if (ids.length === 0) return new Set<string>();
  const rows = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(inArray(sessions.id, ids), eq(sessions.workspaceId, workspaceId)));
  return new Set(rows.map((row) => row.id));
}

/** The channel web replicas use to ask each other to act on a turn one of them runs. */
export const CONTROL_CHANNEL = "hangar_control";

export async function notifyControl(payload: string, db: Db = getDb()) {
  await notifyChannel(CONTROL_CHANNEL, payload, db);
}

/** A NOTIFY on `channel` to every process that LISTENs on the same PostgreSQL database. */
export async function notifyChannel(channel: string, payload: string, db: Db = getDb()) {
  await db.execute(sql`select pg_notify(${channel}, ${payload})`);
}

/** A page of the log newest first: the events before `before` (all of them when null). */
export async function listSessionEventsDesc(
  sessionId: string,
  before: number | null,
  limit: number,
  db: Db = getDb(),
) {
  const rows = await db
    .select()
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        ...(before !== null ? [lt(sessionEvents.seq, before)] : []),
      ),
    )
    .orderBy(desc(sessionEvents.seq))
    .limit(limit);
  return rows.map((row): SessionEvent => ({
    seq: row.seq,
    type: row.type,
    data: row.data,
    at: iso(row.createdAt),
  }));
}

/** The seq of the first event of `type` whose data's `field` is `value` (a tool call by its id, a turn's start). */
export async function findSessionEventSeq(
  sessionId: string,
  type: string,
  field: string,
  value: string,
  db: Db = getDb(),
): Promise<number | null> {
  const [row] = await db
    .select({ seq: sessionEvents.seq })
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        eq(sessionEvents.type, type),
        sql`${sessionEvents.data}->>${field} = ${value}`,
      ),
    )
    .orderBy(sessionEvents.seq)
    .limit(1);
  return row?.seq ?? null;
}

/** The tokens the session's turns used, summed from their turn_complete events. */
export async function sessionTokenTotals(sessionId: string, db: Db = getDb()) {
  const [row] = await db
    .select({
      input: sql<number>`coalesce(sum((${sessionEvents.data}->'tokens'->>'input')::bigint), 0)::int`,
      output: sql<number>`coalesce(sum((${sessionEvents.data}->'tokens'->>'output')::bigint), 0)::int`,
      cacheRead: sql<number>`coalesce(sum((${sessionEvents.data}->'tokens'->>'cache_read')::bigint), 0)::int`,
    })
    .from(sessionEvents)
    .where(and(eq(sessionEvents.sessionId, sessionId), eq(sessionEvents.type, "turn_complete")));
  return {
    input: Number(row?.input ?? 0),
    output: Number(row?.output ?? 0),
    cacheRead: Number(row?.cacheRead ?? 0),
  };
}

/** Keyset page of a workspace's sessions for the Managed Agents API. */
export async function listSessionPage(query: ManagedSessionListQuery, reach: Reach, db: Db = getDb()) {
  const filters: SQL[] = [eq(sessions.workspaceId, reach.workspaceId)];
  if (reach.agentIds) filters.push(inArray(sessions.agentId, [...reach.agentIds]));
  if (query.agent_id) filters.push(eq(sessions.agentId, query.agent_id));
  if (query.include_archived !== "true") filters.push(isNull(sessions.archivedAt));
  if (query.statuses !== undefined) {
    // The API's statuses over Hangar's: running and idle are both `ready` (a turn tells them apart).
    const wanted = [query.statuses].flat();
    const native = wanted.flatMap((s) =>
      s === "rescheduling" ? ["creating"] : s === "terminated" ? ["dead", "failed"] : ["ready"],
    );
    filters.push(inArray(sessions.status, [...new Set(native)]));
  }
  const after = decodeCursor(query.page);
  if (after) filters.push(query.order === "asc" ? gt(sessions.id, after) : lt(sessions.id, after));
  const rows = await db
    .select()
    .from(sessions)
    .where(and(...filters))
    .orderBy(query.order === "asc" ? asc(sessions.id) : desc(sessions.id))
    .limit(query.limit + 1);
  return toCursorPage(rows, query.limit, (r) => r.id);
}

export async function setSessionFields(
  id: string,
  patch: { title?: string | null; metadata?: Record<string, string>; archivedAt?: Date },
  db: Db = getDb(),
): Promise<SessionRow> {
  const [row] = await db.update(sessions).set(patch).where(eq(sessions.id, id)).returning();
  if (!row) throw new NotFoundError(`session ${id} not found`);
  return row;
}

/** Removes a session with its files and log (they cascade). */
export async function deleteSessionRow(id: string, db: Db = getDb()): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, id));
  forgetSessionScope(id);
}

/**
 * The newest user message logged as waiting for the sandbox (`pending`) that no turn has answered
 * yet (a turn_started naming it as `user_message_seq`), or null.
 */
export async function unansweredPendingMessage(
  sessionId: string,
  db: Db = getDb(),
): Promise<SessionEvent | null> {
  const [row] = await db
    .select()
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        eq(sessionEvents.type, "user_message"),
        sql`${sessionEvents.data}->>'pending' = 'true'`,
      ),
    )
    .orderBy(desc(sessionEvents.seq))
    .limit(1);
  if (!row) return null;
  const answered = await findSessionEventSeq(
    sessionId,
    "turn_started",
    "user_message_seq",
    String(row.seq),
    db,
  );
  return answered === null ? { seq: row.seq, type: row.type, data: row.data, at: iso(row.createdAt) } : null;
}
