import { and, count, desc, eq, ilike, inArray, lt, or } from "drizzle-orm";

import { type Db, type Tx } from "@/db";
import { getDb } from "@/db/client";
import { skills, skillVersions } from "@/db/schema";
import { ConflictError, NotFoundError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import type {
  CreateSkillInput,
  Skill,
  SkillListQuery,
  SkillVersion,
  UpdateSkillInput,
} from "@/lib/schemas/skill";

import { containsPattern, decodeCursor, iso, readPage, toCursorPage } from "./_util";

type SkillRow = typeof skills.$inferSelect;

function toApiSkill(row: SkillRow): Skill {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    content: row.content,
    version: row.version,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

export async function listSkills(query: SkillListQuery, workspaceId: string, db: Db = getDb()) {
  const search = query.search
    ? or(ilike(skills.name, containsPattern(query.search)), ilike(skills.id, containsPattern(query.search)))
    : undefined;
  const where = and(eq(skills.workspaceId, workspaceId), search);
  const page = await readPage(
    query,
    db.select().from(skills).where(where).orderBy(desc(skills.createdAt), desc(skills.id)),
    db.select({ value: count() }).from(skills).where(where),
  );
  return { ...page, data: page.data.map(toApiSkill) };
}

export async function getSkill(id: string, db: Db | Tx = getDb()): Promise<Skill> {
  const [row] = await db.select().from(skills).where(eq(skills.id, id));
  if (!row) throw new NotFoundError(`skill ${id} not found`);
  return toApiSkill(row);
}

/** The named skills of the workspace, in the order asked; any unknown id is a 404 that lists them all. */
export async function getSkillsByIds(
  ids: string[],
  workspaceId: string,
  db: Db | Tx = getDb(),
): Promise<Skill[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select()
    .from(skills)
    .where(and(inArray(skills.id, ids), eq(skills.workspaceId, workspaceId)));
  const byId = new Map(rows.map((row) => [row.id, row]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length) throw new NotFoundError(`skill not found: ${missing.join(", ")}`);
  return ids.map((id) => toApiSkill(byId.get(id) as SkillRow));
}

export async function insertSkill(input: CreateSkillInput, workspaceId: string, tx: Tx): Promise<Skill> {
  const id = newId("skill");
  const fields = { name: input.name, description: input.description ?? null, content: input.content };
  const [row] = await tx
    .insert(skills)
    .values({ id, workspaceId, ...fields })
    .returning();
  await tx.insert(skillVersions).values({ skillId: id, version: 1, ...fields });
  return toApiSkill(row as SkillRow);
}

export async function createSkill(
  input: CreateSkillInput,
  workspaceId: string,
  db: Db | Tx = getDb(),
): Promise<Skill> {
  return db.transaction((tx) => insertSkill(input, workspaceId, tx));
}

/** Updates a skill; each change is kept as a new version, so the history is complete. */
export async function updateSkill(id: string, input: UpdateSkillInput, db: Db = getDb()): Promise<Skill> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(skills).where(eq(skills.id, id)).for("update");
    if (!row) throw new NotFoundError(`skill ${id} not found`);
    if (input.expected_version !== undefined && input.expected_version !== row.version) {
      throw new ConflictError(
        `skill ${id} is at version ${row.version}, not ${input.expected_version}: reload it and retry`,
      );
    }
    const next = {
      name: input.name ?? row.name,
      description: input.description === undefined ? row.description : input.description,
      content: input.content ?? row.content,
    };
    const changed =
      next.name !== row.name || next.description !== row.description || next.content !== row.content;
    if (!changed) return toApiSkill(row);
    const version = row.version + 1;
    const [updated] = await tx
      .update(skills)
      .set({ ...next, version })
      .where(and(eq(skills.id, id), eq(skills.version, row.version)))
      .returning();
    await tx.insert(skillVersions).values({ skillId: id, version, ...next });
    return toApiSkill(updated as SkillRow);
  });
}

export async function deleteSkill(id: string, db: Db = getDb()): Promise<void> {
  const deleted = await db.delete(skills).where(eq(skills.id, id)).returning({ id: skills.id });
  if (deleted.length === 0) throw new NotFoundError(`skill ${id} not found`);
}

/** Every version of a skill, newest first (the first entry is the current content). */
export async function listSkillVersions(id: string, db: Db = getDb()): Promise<{ data: SkillVersion[] }> {
  await getSkill(id, db);
  const rows = await db
    .select()
    .from(skillVersions)
    .where(eq(skillVersions.skillId, id))
    .orderBy(desc(skillVersions.version));
  return {
    data: rows.map((row) => ({
      version: row.version,
      name: row.name,
      description: row.description,
      content: row.content,
      created_at: iso(row.createdAt),
    })),
  };
}

/** Keyset page of a workspace's skills for the Managed Agents API, newest first. */
export async function listSkillPage(
  query: { limit: number; page?: string },
  workspaceId: string,
  db: Db = getDb(),
) {
  const after = decodeCursor(query.page);
  const rows = await db
    .select()
    .from(skills)
    .where(and(eq(skills.workspaceId, workspaceId), after ? lt(skills.id, after) : undefined))
    .orderBy(desc(skills.id))
    .limit(query.limit + 1);
  const page = toCursorPage(rows, query.limit, (r) => r.id);
  return { data: page.data.map(toApiSkill), next_page: page.next_page };
}
