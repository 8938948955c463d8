import { createHash } from "node:crypto";

import { and, asc, count, desc, eq, ilike, inArray, isNull, lt, or, sql, type SQL } from "drizzle-orm";

import { type Db, type Tx } from "@/db";
import { getDb } from "@/db/client";
import { agentFiles, agents, agentVersions, sessions, type AgentSnapshot } from "@/db/schema";
import { NotFoundError, ValidationError } from "@/lib/errors";
import type { AgentListQuery } from "@/lib/schemas/agent";
import type { CursorQuery } from "@/lib/schemas/managed-common";
import type { SandboxFile, SandboxFileInput, SandboxFileKeep } from "@/lib/schemas/sandbox-file";

import { containsPattern, decodeCursor, readPage, toCursorPage } from "./_util";
import { forgetSessionScope, type Reach } from "./scope";

export type AgentRow = typeof agents.$inferSelect;

type Insert = typeof agents.$inferInsert;
/** Columns only the Managed Agents API sets (lib/managed); they have defaults. */
type ManagedColumns = "description" | "metadata" | "tools" | "mcpNames" | "archivedAt";

/** The columns an insert sets; env var values are `sealEnv` ciphertext, never plaintext. */
export type NewAgent = Required<Omit<Insert, "version" | "createdAt" | "updatedAt" | ManagedColumns>> &
  Partial<Pick<Insert, ManagedColumns>>;

/** A partial update; every write bumps `version`. */
export type AgentPatch = Partial<Omit<NewAgent, "id">> & { version: number };

/** An agent row with its files' metadata (never their bytes). */
export type AgentRecord = { row: AgentRow; files: SandboxFile[] };

// The outer row's id, always qualified: drizzle renders a bare `${agents.id}` as "id" in a one-table
// select, which inside a subquery would bind to the subquery's own table.
const AGENT_ID = sql`"agents"."id"`;

// File metadata in wire shape, gathered in the same statement as the agent row.
const filesColumn = sql<SandboxFile[]>`coalesce((
  select json_agg(json_build_object(
    'index', f.position, 'name', f.name, 'sandbox_path', f.sandbox_path,
    'content_type', f.content_type, 'size', f.size, 'sha256', f.sha256
  ) order by f.position)
  from ${agentFiles} f where f.agent_id = ${AGENT_ID}
), '[]'::json)`;

const sessionCountColumn = sql<number>`(select count(*)::int from ${sessions} s where s.agent_id = ${AGENT_ID})`;
const hasActiveSessionColumn = sql<boolean>`exists(
  select 1 from ${sessions} s where s.agent_id = ${AGENT_ID} and s.status in ('creating', 'ready')
)`;

const SORT_COLUMNS = {
  created_at: agents.createdAt,
  updated_at: agents.updatedAt,
  name: agents.name,
  model: agents.model,
  harness_id: agents.harnessId,
} as const;

function fileRows(agentId: string, files: (Omit<SandboxFileInput, "content"> & { bytes: Buffer })[]) {
  return files.map((file, position) => ({
    agentId,
    position,
    name: file.name,
    sandboxPath: file.sandbox_path,
    contentType: file.content_type,
    size: file.size,
    sha256: createHash("sha256").update(file.bytes).digest("hex"),
    content: file.bytes,
  }));
}

function metaOf(rows: ReturnType<typeof fileRows>): SandboxFile[] {
  return rows.map((r) => ({
    index: r.position,
    name: r.name,
    sandbox_path: r.sandboxPath,
    content_type: r.contentType,
    size: r.size,
    sha256: r.sha256,
  }));
}

/*
 * The two hottest statements (read one agent, insert one agent) are prepared once per database
 * client: drizzle then skips rebuilding the SQL, which was a tenth of the API's CPU (bench/agents).
 */
function prepareHotQueries(db: Db) {
  return {
    getById: db
      .select({ row: agents, files: filesColumn })
      .from(agents)
      .where(eq(agents.id, sql.placeholder("id")))
      .prepare("hangar_get_agent"),
    insert: db
      .insert(agents)
      .values({
        id: sql.placeholder("id"),
        name: sql.placeholder("name"),
        model: sql.placeholder("model"),
        prompt: sql.placeholder("prompt"),
        harnessId: sql.placeholder("harnessId"),
        requirements: sql.placeholder("requirements"),
        repoUrl: sql.placeholder("repoUrl"),
        branch: sql.placeholder("branch"),
        pfpUrl: sql.placeholder("pfpUrl"),
        mcpServers: sql.placeholder("mcpServers"),
        allowOut: sql.placeholder("allowOut"),
        denyOut: sql.placeholder("denyOut"),
        envVars: sql.placeholder("envVars"),
        workspaceId: sql.placeholder("workspaceId"),
      })
      .returning()
      .prepare("hangar_insert_agent"),
  };
}

const prepared = new WeakMap<Db, ReturnType<typeof prepareHotQueries>>();

function hot(db: Db) {
  let queries = prepared.get(db);
  if (!queries) {
    queries = prepareHotQueries(db);
    prepared.set(db, queries);
  }
  return queries;
}

export async function getAgentRecord(id: string, db: Db = getDb()): Promise<AgentRecord> {
  const [found] = await hot(db).getById.execute({ id });
  if (!found) throw new NotFoundError(`agent ${id} not found`);
  return found;
}

/** The agent row, locked for the rest of the transaction (read-modify-write). */
export async function lockAgent(id: string, tx: Tx): Promise<AgentRecord> {
  const [found] = await tx
    .select({ row: agents, files: filesColumn })
    .from(agents)
    .where(eq(agents.id, id))
    .for("update", { of: agents });
  if (!found) throw new NotFoundError(`agent ${id} not found`);
  return found;
}

/** A page of agents, each with its session count and whether one of them is live. */
export async function listAgentRows(query: AgentListQuery, reach: Reach, db: Db = getDb()) {
  const filters: SQL[] = [eq(agents.workspaceId, reach.workspaceId)];
  if (reach.agentIds) filters.push(inArray(agents.id, [...reach.agentIds]));
  if (query.search) {
    const pattern = containsPattern(query.search);
    filters.push(
      or(
        ilike(agents.name, pattern),
        ilike(agents.id, pattern),
        ilike(agents.model, pattern),
        ilike(agents.harnessId, pattern),
      ) as SQL,
    );
  }
  const where = and(...filters);
  const direction = query.order === "asc" ? asc : desc;
  const page = await readPage(
    query,
    db
      .select({
        row: agents,
        files: filesColumn,
        sessionCount: sessionCountColumn,
        hasActiveSession: hasActiveSessionColumn,
      })
      .from(agents)
      .where(where)
      .orderBy(direction(SORT_COLUMNS[query.sort]), direction(agents.id)),
    db.select({ value: count() }).from(agents).where(where),
  );
  return {
    ...page,
    data: page.data.map((r) => ({
      ...r,
      sessionCount: Number(r.sessionCount),
      hasActiveSession: Boolean(r.hasActiveSession),
    })),
  };
}

export async function insertAgent(values: NewAgent, db: Db = getDb()): Promise<AgentRow> {
  const managed = ["description", "metadata", "tools", "mcpNames"].some(
    (key) => values[key as keyof NewAgent] !== undefined,
  );
  // The prepared statement has Hangar's own columns only; the Managed Agents API sets more.
  const [row] = managed
    ? await db.insert(agents).values(values).returning()
    : await hot(db).insert.execute(values);
  return row as AgentRow;
}

export async function updateAgentRow(id: string, patch: AgentPatch, db: Db = getDb()): Promise<AgentRow> {
  const [row] = await db.update(agents).set(patch).where(eq(agents.id, id)).returning();
  if (!row) throw new NotFoundError(`agent ${id} not found`);
  return row;
}

/** Stores a new agent's files, in order; returns their metadata. */
export async function insertAgentFiles(
  agentId: string,
  files: SandboxFileInput[],
  db: Db = getDb(),
): Promise<SandboxFile[]> {
  const rows = fileRows(
    agentId,
    files.map((file) => ({ ...file, bytes: Buffer.from(file.content, "base64") })),
  );
  if (rows.length) await db.insert(agentFiles).values(rows);
  return metaOf(rows);
}

/** Each file's bytes: sent anew (base64), or kept from the agent's stored file with that sha256. */
async function resolveFiles(agentId: string, files: (SandboxFileInput | SandboxFileKeep)[], tx: Tx) {
  const keepShas = files.flatMap((f) => ("sha256" in f ? [f.sha256] : []));
  const stored = keepShas.length
    ? await tx
        .select({ sha256: agentFiles.sha256, content: agentFiles.content })
        .from(agentFiles)
        .where(and(eq(agentFiles.agentId, agentId), inArray(agentFiles.sha256, keepShas)))
    : [];
  const bySha = new Map(stored.map((s) => [s.sha256, s.content]));
  const issues = files.flatMap((f, i) =>
    "sha256" in f && !bySha.has(f.sha256)
      ? [{ path: ["sandbox_files", i, "sha256"], message: "this agent has no file with that sha256" }]
      : [],
  );
  if (issues.length)
    throw new ValidationError(`sandbox_files.${issues[0]?.path[1]}.sha256: unknown file`, issues);
  return fileRows(
    agentId,
    files.map((f) => {
      const bytes = "sha256" in f ? (bySha.get(f.sha256) as Buffer) : Buffer.from(f.content, "base64");
      return { ...f, bytes, size: bytes.length };
    }),
  );
}

/** Replaces an agent's files (new ones, or stored ones kept by sha256); returns their metadata. */
export async function replaceAgentFiles(
  agentId: string,
  files: (SandboxFileInput | SandboxFileKeep)[],
  tx: Tx,
): Promise<SandboxFile[]> {
  const rows = await resolveFiles(agentId, files, tx);
  await tx.delete(agentFiles).where(eq(agentFiles.agentId, agentId));
  if (rows.length) await tx.insert(agentFiles).values(rows);
  return metaOf(rows);
}

export async function deleteAgent(id: string, db: Db = getDb()): Promise<void> {
  const deleted = await db.delete(agents).where(eq(agents.id, id)).returning({ id: agents.id });
  if (deleted.length === 0) throw new NotFoundError(`agent ${id} not found`);
  forgetSessionScope(null); // its sessions went with it
}

export async function getAgentFile(agentId: string, index: number, db: Db = getDb()) {
  const [file] = await db
    .select({ name: agentFiles.name, contentType: agentFiles.contentType, content: agentFiles.content })
    .from(agentFiles)
    .where(and(eq(agentFiles.agentId, agentId), eq(agentFiles.position, index)));
  if (file) return file;
  await getAgentRecord(agentId, db);
  throw new NotFoundError(`agent ${agentId} has no file at index ${index}`);
}

/** Everything a new session copies from its agent, files with their bytes, env vars still sealed. */
export async function readAgentForSession(agentId: string, db: Db = getDb()) {
  const [row] = await db.select().from(agents).where(eq(agents.id, agentId));
  if (!row) throw new NotFoundError(`agent ${agentId} not found`);
  const files = await db
    .select()
    .from(agentFiles)
    .where(eq(agentFiles.agentId, agentId))
    .orderBy(agentFiles.position);
  return { row, files };
}

/** Keyset page of a workspace's agents for the Managed Agents API, newest first. */
export async function listAgentPage(query: CursorQuery, reach: Reach, db: Db = getDb()) {
  const filters: SQL[] = [eq(agents.workspaceId, reach.workspaceId)];
  if (reach.agentIds) filters.push(inArray(agents.id, [...reach.agentIds]));
  if (query.include_archived !== "true") filters.push(isNull(agents.archivedAt));
  const after = decodeCursor(query.page);
  if (after) filters.push(lt(agents.id, after));
  const rows = await db
    .select({ row: agents, files: filesColumn })
    .from(agents)
    .where(and(...filters))
    .orderBy(desc(agents.id))
    .limit(query.limit + 1);
  return toCursorPage(rows, query.limit, (r) => r.row.id);
}

/**
 * The agent's configuration at its current version. An update stores the version it replaces, so
 * the current one is always the row itself and a create costs no extra write.
 */
export function snapshotOf(row: AgentRow): AgentSnapshot {
  const { envVars: _env, workspaceId: _ws, createdAt: _c, updatedAt, archivedAt: _a, ...config } = row;
  return { ...config, updatedAt: updatedAt.toISOString() };
}

export async function insertAgentVersion(row: AgentRow, db: Db = getDb()): Promise<void> {
  await db
    .insert(agentVersions)
    .values({ agentId: row.id, version: row.version, snapshot: snapshotOf(row) })
    .onConflictDoNothing();
}

export async function getAgentVersion(agentId: string, version: number, db: Db = getDb()) {
  const [found] = await db
    .select({ snapshot: agentVersions.snapshot })
    .from(agentVersions)
    .where(and(eq(agentVersions.agentId, agentId), eq(agentVersions.version, version)));
  return found?.snapshot ?? null;
}

/** Newest version first, one keyset page (the cursor is the version number). */
export async function listAgentVersions(
  agentId: string,
  limit: number,
  before: number | null,
  db: Db = getDb(),
) {
  const filters: SQL[] = [eq(agentVersions.agentId, agentId)];
  if (before !== null) filters.push(lt(agentVersions.version, before));
  const rows = await db
    .select({ snapshot: agentVersions.snapshot })
    .from(agentVersions)
    .where(and(...filters))
    .orderBy(desc(agentVersions.version))
    .limit(limit + 1);
  return rows.map((r) => r.snapshot);
}

/** Archives an agent (no new sessions); its version stays, as does everything else. */
export async function archiveAgentRow(id: string, db: Db = getDb()): Promise<AgentRecord> {
  await db
    .update(agents)
    .set({ archivedAt: sql`coalesce(${agents.archivedAt}, now())` })
    .where(eq(agents.id, id));
  return getAgentRecord(id, db);
}
