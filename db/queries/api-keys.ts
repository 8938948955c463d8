import { and, desc, eq, isNull, lt, or } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { apiKeys } from "@/db/schema";
import { NotFoundError } from "@/lib/errors";
import { newId } from "@/lib/ids";

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type NewApiKey = Omit<typeof apiKeys.$inferInsert, "id" | "createdAt" | "lastUsedAt" | "revokedAt">;

export async function insertApiKey(input: NewApiKey, db: Db = getDb()): Promise<ApiKeyRow> {
  const [row] = await db
    .insert(apiKeys)
    .values({ id: newId("apiKey"), ...input })
    .returning();
  return row as ApiKeyRow;
}

export async function listApiKeys(workspaceId: string, db: Db = getDb()): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.workspaceId, workspaceId))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
}

export async function getApiKey(workspaceId: string, id: string, db: Db = getDb()): Promise<ApiKeyRow> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, id)));
  if (!row) throw new NotFoundError(`API key ${id} not found`);
  return row;
}

/** A key by the hash of what was presented, whatever its state (the caller checks revoked and expiry). */
export async function findApiKeyByHash(tokenHash: string, db: Db = getDb()): Promise<ApiKeyRow | null> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.tokenHash, tokenHash));
  return row ?? null;
}

export async function findApiKeyById(id: string, db: Db = getDb()): Promise<ApiKeyRow | null> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row ?? null;
}

/** Revokes the key (idempotent: a second revoke keeps the first time). */
export async function revokeApiKey(workspaceId: string, id: string, db: Db = getDb()): Promise<ApiKeyRow> {
  await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
  return getApiKey(workspaceId, id, db);
}

/** Records use, at most once a minute per key, so a busy key does not write on every request. */
export async function touchApiKey(id: string, now = new Date(), db: Db = getDb()) {
  const staleBefore = new Date(now.getTime() - 60_000);
  await db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, staleBefore))));
}
