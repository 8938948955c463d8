import { createHash } from "node:crypto";

import { and, asc, count, desc, eq, ilike, inArray, or, sql, type SQL } from "drizzle-orm";

import { type Db, type Tx } from "@/db";
import { getDb, runtime } from "@/lib/runtime";
import { agentFiles, agents, sessions } from "@/db/schema";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import type { SecretBox } from "@/lib/secret-box";
import type {
  Agent,
  AgentListQuery,
  AttachSkillInput,
  CreateAgentInput,
  UpdateAgentInput,
} from "@/lib/schemas/agent";
import { SECRET_MASK, type EnvVars } from "@/lib/schemas/env-vars";
import { supportsTui, type HarnessId } from "@/lib/schemas/harness";
import type { SandboxFile, SandboxFileInput, SandboxFileKeep } from "@/lib/schemas/sandbox-file";
import type { Skill } from "@/lib/schemas/skill";
import { appendSkillBlock, parseSkillIds, stripSkillBlocks } from "@/lib/skill-blocks";

import { containsPattern, iso } from "./_util";
import { getSkillsByIds, insertSkill } from "./skills";

type AgentRow = typeof agents.$inferSelect;

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

function toApiAgent(row: AgentRow, files: SandboxFile[]): Agent {
  return {
    id: row.id,
    name: row.name,
    model: row.model,
    prompt: row.prompt,
    harness_id: row.harnessId as HarnessId,
    supports_tui: supportsTui(row.harnessId as HarnessId),
    requirements: row.requirements,
    repo_url: row.repoUrl,
    branch: row.branch,
    pfp_url: row.pfpUrl,
    mcp_servers: row.mcpServers,
    env_vars: Object.fromEntries(Object.keys(row.envVars).map((key) => [key, SECRET_MASK])),
    attached_skill_ids: parseSkillIds(row.prompt),
    allow_out: row.allowOut,
    deny_out: row.denyOut,
    sandbox_files: files,
    version: row.version,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

function envContext(agentId: string, key: string) {
  return `agent:${agentId}:env:${key}`;
}

function encryptEnv(agentId: string, vars: EnvVars, box: SecretBox): Record<string, string> {
  return Object.fromEntries(
    Object.entries(vars).map(([key, value]) => [key, box.encrypt(value, envContext(agentId, key))]),
  );
}

function decryptEnv(agentId: string, stored: Record<string, string>): EnvVars {
  const box = runtime().box;
  return Object.fromEntries(
    Object.entries(stored).map(([key, value]) => [key, box.decrypt(value, envContext(agentId, key))]),
  );
}

function fileRows(agentId: string, files: (SandboxFileInput & { bytes: Buffer })[]) {
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

async function selectAgent(id: string, db: Db) {
  const [found] = await hot(db).getById.execute({ id });
  if (!found) throw new NotFoundError(`agent ${id} not found`);
  return found;
}

/** The agent row, locked for the rest of the transaction (read-modify-write). */
async function lockAgent(id: string, tx: Tx) {
  const [found] = await tx
    .select({ row: agents, files: filesColumn })
    .from(agents)
    .where(eq(agents.id, id))
    .for("update", { of: agents });
  if (!found) throw new NotFoundError(`agent ${id} not found`);
  return found;
}

export async function listAgents(query: AgentListQuery, db: Db = getDb()) {
  let where: SQL | undefined;
  if (query.search) {
    const pattern = containsPattern(query.search);
    where = or(
      ilike(agents.name, pattern),
      ilike(agents.id, pattern),
      ilike(agents.model, pattern),
      ilike(agents.harnessId, pattern),
    );
  }
  const direction = query.order === "asc" ? asc : desc;
  const [rows, [total]] = await Promise.all([
    db
      .select({
        row: agents,
        files: filesColumn,
        sessionCount: sessionCountColumn,
        hasActiveSession: hasActiveSessionColumn,
      })
      .from(agents)
      .where(where)
      .orderBy(direction(SORT_COLUMNS[query.sort]), direction(agents.id))
      .limit(query.limit)
      .offset(query.offset),
    db.select({ value: count() }).from(agents).where(where),
  ]);
  return {
    data: rows.map(({ row, files, sessionCount, hasActiveSession }) => ({
      ...toApiAgent(row, files),
      session_count: Number(sessionCount),
      has_active_session: Boolean(hasActiveSession),
    })),
    total: total?.value ?? 0,
    limit: query.limit,
    offset: query.offset,
  };
}

export async function getAgent(id: string, db: Db = getDb()): Promise<Agent> {
  const { row, files } = await selectAgent(id, db);
  return toApiAgent(row, files);
}

function withBytes(files: SandboxFileInput[]) {
  return files.map((file) => ({ ...file, bytes: Buffer.from(file.content, "base64") }));
}

function appendSkills(prompt: string | null, attach: Skill[]): string | null {
  return attach.reduce<string | null>((p, skill) => appendSkillBlock(p, skill.id, skill.content), prompt);
}

export async function createAgent(input: CreateAgentInput, db: Db = getDb()): Promise<Agent> {
  const id = newId("agent");
  const files = fileRows(id, withBytes(input.sandbox_files));
  const values = {
    id,
    name: input.name ?? null,
    model: input.model,
    harnessId: input.harness_id,
    requirements: input.requirements ?? null,
    repoUrl: input.repo_url ?? null,
    branch: input.branch,
    pfpUrl: input.pfp_url ?? null,
    mcpServers: input.mcp_servers,
    allowOut: input.allow_out,
    denyOut: input.deny_out,
    envVars: encryptEnv(id, input.env_vars, runtime().box),
  };
  // The common case is one statement; skills and files need a transaction around several.
  if (input.skill_ids.length === 0 && files.length === 0) {
    const [row] = await hot(db).insert.execute({ ...values, prompt: input.prompt ?? null });
    return toApiAgent(row as AgentRow, []);
  }
  return db.transaction(async (tx) => {
    const attach = await getSkillsByIds(input.skill_ids, tx);
    const [row] = await tx
      .insert(agents)
      .values({ ...values, prompt: appendSkills(input.prompt ?? null, attach) })
      .returning();
    if (files.length) await tx.insert(agentFiles).values(files);
    return toApiAgent(row as AgentRow, metaOf(files));
  });
}

function mergeEnv(row: AgentRow, vars: EnvVars, box: SecretBox): Record<string, string> {
  const missing = Object.keys(vars).filter((key) => vars[key] === SECRET_MASK && !(key in row.envVars));
  if (missing.length) {
    throw new ValidationError(
      `env_vars.${missing[0]}: there is no stored value to keep; send the value itself`,
      missing.map((key) => ({ path: ["env_vars", key], message: "no stored value to keep; send the value" })),
    );
  }
  const fresh = Object.fromEntries(Object.entries(vars).filter(([, value]) => value !== SECRET_MASK));
  const kept = Object.fromEntries(
    Object.keys(vars)
      .filter((key) => vars[key] === SECRET_MASK)
      .map((key) => [key, row.envVars[key] as string]),
  );
  return { ...kept, ...encryptEnv(row.id, fresh, box) };
}

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
      return { ...f, content: "", bytes, size: bytes.length };
    }),
  );
}

function checkVersion(row: AgentRow, expected: number | undefined) {
  if (expected !== undefined && expected !== row.version) {
    throw new ConflictError(
      `agent ${row.id} is at version ${row.version}, not ${expected}: reload it and retry`,
    );
  }
}

/** Applies a partial update; `expected_version` turns a stale write into a 409. */
export async function updateAgent(id: string, input: UpdateAgentInput, db: Db = getDb()): Promise<Agent> {
  return db.transaction(async (tx) => {
    const { row, files } = await lockAgent(id, tx);
    checkVersion(row, input.expected_version);
    const { expected_version: _expected, ...fields } = input;
    if (Object.values(fields).every((v) => v === undefined)) return toApiAgent(row, files);

    let prompt = input.prompt !== undefined ? input.prompt : row.prompt;
    if (input.skill_ids) {
      const wanted = new Set(input.skill_ids);
      for (const attached of parseSkillIds(prompt)) {
        if (!wanted.has(attached)) prompt = stripSkillBlocks(prompt, attached);
      }
      const present = new Set(parseSkillIds(prompt));
      prompt = appendSkills(
        prompt,
        await getSkillsByIds(
          input.skill_ids.filter((s) => !present.has(s)),
          tx,
        ),
      );
    }

    const [updated] = await tx
      .update(agents)
      .set({
        name: input.name,
        model: input.model,
        prompt,
        harnessId: input.harness_id,
        requirements: input.requirements,
        repoUrl: input.repo_url,
        branch: input.branch,
        pfpUrl: input.pfp_url,
        mcpServers: input.mcp_servers,
        allowOut: input.allow_out,
        denyOut: input.deny_out,
        envVars: input.env_vars && mergeEnv(row, input.env_vars, runtime().box),
        version: row.version + 1,
      })
      .where(eq(agents.id, id))
      .returning();

    let meta = files;
    if (input.sandbox_files) {
      const rows = await resolveFiles(id, input.sandbox_files, tx);
      await tx.delete(agentFiles).where(eq(agentFiles.agentId, id));
      if (rows.length) await tx.insert(agentFiles).values(rows);
      meta = metaOf(rows);
    }
    return toApiAgent(updated as AgentRow, meta);
  });
}

export async function deleteAgent(id: string, db: Db = getDb()): Promise<void> {
  const deleted = await db.delete(agents).where(eq(agents.id, id)).returning({ id: agents.id });
  if (deleted.length === 0) throw new NotFoundError(`agent ${id} not found`);
}

async function setPrompt(row: AgentRow, prompt: string | null, tx: Tx) {
  const [updated] = await tx
    .update(agents)
    .set({ prompt, version: row.version + 1 })
    .where(eq(agents.id, row.id))
    .returning();
  return updated as AgentRow;
}

/** Attaches a library skill, or an inline one (saved to the library unless asked not to). */
export async function attachSkill(agentId: string, input: AttachSkillInput, db: Db = getDb()) {
  return db.transaction(async (tx) => {
    const { row, files } = await lockAgent(agentId, tx);
    let skill: Skill | null;
    let block: { id: string; content: string };
    if ("skill_id" in input) {
      skill = (await getSkillsByIds([input.skill_id], tx))[0] as Skill;
      block = skill;
    } else if (input.save_to_library) {
      skill = await insertSkill(input, tx);
      block = skill;
    } else {
      skill = null;
      block = { id: newId("skill"), content: input.content };
    }
    const prompt = appendSkillBlock(row.prompt, block.id, block.content);
    const updated = prompt === row.prompt ? row : await setPrompt(row, prompt, tx);
    return { agent: toApiAgent(updated, files), skill };
  });
}

/** Detaches one skill, or every skill when no id is given. */
export async function detachSkill(agentId: string, skillId: string | undefined, db: Db = getDb()) {
  return db.transaction(async (tx) => {
    const { row, files } = await lockAgent(agentId, tx);
    const attached = parseSkillIds(row.prompt);
    if (skillId !== undefined && !attached.includes(skillId)) {
      throw new NotFoundError(`skill ${skillId} is not attached to agent ${agentId}`);
    }
    if (attached.length === 0) return { agent: toApiAgent(row, files) };
    const updated = await setPrompt(row, stripSkillBlocks(row.prompt, skillId) || null, tx);
    return { agent: toApiAgent(updated, files) };
  });
}

export async function getAgentFile(agentId: string, index: number, db: Db = getDb()) {
  const [file] = await db
    .select({ name: agentFiles.name, contentType: agentFiles.contentType, content: agentFiles.content })
    .from(agentFiles)
    .where(and(eq(agentFiles.agentId, agentId), eq(agentFiles.position, index)));
  if (file) return file;
  await selectAgent(agentId, db);
  throw new NotFoundError(`agent ${agentId} has no file at index ${index}`);
}

/** Everything a new session copies from its agent, secrets decrypted: for the launcher only. */
export async function readAgentForSession(agentId: string, db: Db = getDb()) {
  const [row] = await db.select().from(agents).where(eq(agents.id, agentId));
  if (!row) throw new NotFoundError(`agent ${agentId} not found`);
  const files = await db
    .select()
    .from(agentFiles)
    .where(eq(agentFiles.agentId, agentId))
    .orderBy(agentFiles.position);
  return { row, files, env: decryptEnv(agentId, row.envVars) };
}
