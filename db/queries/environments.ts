import { and, desc, eq, isNull, lt, type SQL } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { environments } from "@/db/schema";
import { NotFoundError } from "@/lib/errors";
import type { CursorQuery } from "@/lib/schemas/managed-common";

import { decodeCursor, toCursorPage } from "./_util";

export type EnvironmentRow = typeof environments.$inferSelect;
export type NewEnvironment = Omit<typeof environments.$inferInsert, "createdAt" | "updatedAt" | "archivedAt">;
export type EnvironmentPatch = Partial<Omit<NewEnvironment, "id" | "workspaceId">> & { archivedAt?: Date };

export async function insertEnvironment(values: NewEnvironment, db: Db = getDb()): Promise<EnvironmentRow> {
  const [row] = await db.insert(environments).values(values).returning();
  return row as EnvironmentRow;
}

export async function getEnvironmentRow(id: string, db: Db = getDb()): Promise<EnvironmentRow> {
  const [row] = await db.select().from(environments).where(eq(environments.id, id));
  if (!row) throw new NotFoundError(`environment ${id} not found`);
  return row;
}

export async function updateEnvironmentRow(id: string, patch: EnvironmentPatch, db: Db = getDb()) {
  const [row] = await db.update(environments).set(patch).where(eq(environments.id, id)).returning();
  if (!row) throw new NotFoundError(`environment ${id} not found`);
  return row;
}

export async function deleteEnvironmentRow(id: string, db: Db = getDb()): Promise<void> {
  const gone = await db
    .delete(environments)
    .where(eq(environments.id, id))
    .returning({ id: environments.id });
  if (gone.length === 0) throw new NotFoundError(`environment ${id} not found`);
}

/** Newest first, one keyset page; archived ones only when asked. */
export async function listEnvironmentRows(query: CursorQuery, workspaceId: string, db: Db = getDb()) {
  const filters: SQL[] = [eq(environments.workspaceId, workspaceId)];
  if (query.include_archived !== "true") filters.push(isNull(environments.archivedAt));
  const after = decodeCursor(query.page);
  if (after) filters.push(lt(environments.id, after));
  const rows = await db
    .select()
    .from(environments)
    .where(and(...filters))
    .orderBy(desc(environments.id))
    .limit(query.limit + 1);
  return toCursorPage(rows, query.limit, (r) => r.id);
}
