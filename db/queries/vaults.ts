import { and, desc, eq, inArray, isNull, lt, type SQL } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { vaultCredentials, vaults } from "@/db/schema";
import { NotFoundError } from "@/lib/errors";
import type { CursorQuery } from "@/lib/schemas/managed-common";

import { decodeCursor, toCursorPage } from "./_util";

export type VaultRow = typeof vaults.$inferSelect;
export type CredentialRow = typeof vaultCredentials.$inferSelect;

export async function insertVault(values: typeof vaults.$inferInsert, db: Db = getDb()): Promise<VaultRow> {
  const [row] = await db.insert(vaults).values(values).returning();
  return row as VaultRow;
}

export async function getVaultRow(id: string, db: Db = getDb()): Promise<VaultRow> {
  const [row] = await db.select().from(vaults).where(eq(vaults.id, id));
  if (!row) throw new NotFoundError(`vault ${id} not found`);
  return row;
}

export async function updateVaultRow(
  id: string,
  patch: Partial<Pick<VaultRow, "displayName" | "metadata" | "archivedAt">>,
  db: Db = getDb(),
): Promise<VaultRow> {
  const [row] = await db.update(vaults).set(patch).where(eq(vaults.id, id)).returning();
  if (!row) throw new NotFoundError(`vault ${id} not found`);
  return row;
}

export async function deleteVaultRow(id: string, db: Db = getDb()): Promise<void> {
  const gone = await db.delete(vaults).where(eq(vaults.id, id)).returning({ id: vaults.id });
  if (gone.length === 0) throw new NotFoundError(`vault ${id} not found`);
}

export async function listVaultRows(query: CursorQuery, workspaceId: string, db: Db = getDb()) {
  const filters: SQL[] = [eq(vaults.workspaceId, workspaceId)];
  if (query.include_archived !== "true") filters.push(isNull(vaults.archivedAt));
  const after = decodeCursor(query.page);
  if (after) filters.push(lt(vaults.id, after));
  const rows = await db
    .select()
    .from(vaults)
    .where(and(...filters))
    .orderBy(desc(vaults.id))
    .limit(query.limit + 1);
  return toCursorPage(rows, query.limit, (r) => r.id);
}

/** The vaults of `ids` that are in the workspace (archived ones included: the caller decides). */
export async function getVaultsIn(ids: string[], workspaceId: string, db: Db = getDb()) {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(vaults)
    .where(and(inArray(vaults.id, ids), eq(vaults.workspaceId, workspaceId)));
}

export async function insertCredential(
  values: typeof vaultCredentials.$inferInsert,
  db: Db = getDb(),
): Promise<CredentialRow> {
  const [row] = await db.insert(vaultCredentials).values(values).returning();
  return row as CredentialRow;
}

/** A credential of that vault; another vault's id answers 404 like an unknown one. */
export async function getCredentialRow(
  vaultId: string,
  id: string,
  db: Db = getDb(),
): Promise<CredentialRow> {
  const [row] = await db
    .select()
    .from(vaultCredentials)
    .where(and(eq(vaultCredentials.id, id), eq(vaultCredentials.vaultId, vaultId)));
  if (!row) throw new NotFoundError(`credential ${id} not found in vault ${vaultId}`);
  return row;
}

export async function updateCredentialRow(
  vaultId: string,
  id: string,
  patch: Partial<Pick<CredentialRow, "displayName" | "metadata" | "archivedAt" | "auth" | "secret">>,
  db: Db = getDb(),
): Promise<CredentialRow> {
  const [row] = await db
    .update(vaultCredentials)
    .set(patch)
    .where(and(eq(vaultCredentials.id, id), eq(vaultCredentials.vaultId, vaultId)))
    .returning();
  if (!row) throw new NotFoundError(`credential ${id} not found in vault ${vaultId}`);
  return row;
}

export async function deleteCredentialRow(vaultId: string, id: string, db: Db = getDb()): Promise<void> {
  const gone = await db
    .delete(vaultCredentials)
    .where(and(eq(vaultCredentials.id, id), eq(vaultCredentials.vaultId, vaultId)))
    .returning({ id: vaultCredentials.id });
  if (gone.length === 0) throw new NotFoundError(`credential ${id} not found in vault ${vaultId}`);
}

export async function listCredentialRows(vaultId: string, query: CursorQuery, db: Db = getDb()) {
  const filters: SQL[] = [eq(vaultCredentials.vaultId, vaultId)];
  if (query.include_archived !== "true") filters.push(isNull(vaultCredentials.archivedAt));
  const after = decodeCursor(query.page);
  if (after) filters.push(lt(vaultCredentials.id, after));
  const rows = await db
    .select()
    .from(vaultCredentials)
    .where(and(...filters))
    .orderBy(desc(vaultCredentials.id))
    .limit(query.limit + 1);
  return toCursorPage(rows, query.limit, (r) => r.id);
}

/** The live credentials of these vaults, oldest first (a later one wins a name clash). */
export async function liveCredentialsOf(vaultIds: string[], db: Db = getDb()): Promise<CredentialRow[]> {
  if (vaultIds.length === 0) return [];
  return db
    .select()
    .from(vaultCredentials)
    .where(and(inArray(vaultCredentials.vaultId, vaultIds), isNull(vaultCredentials.archivedAt)))
    .orderBy(vaultCredentials.id);
}
