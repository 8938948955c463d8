import { sql } from "drizzle-orm";

import { type Db, type DbKind } from "@/db";
import { dbKind, getDb } from "@/db/client";

/**
 * Runs `work` only in the one process that holds the named PostgreSQL advisory lock for the whole
 * run: several web replicas share a database, and one of them at a time reconciles sandboxes. The
 * lock is a transaction's, so it goes away with a crashed holder's connection. Embedded PGlite has
 * one process by construction and needs no lock (its single connection could not serve `work`
 * while a transaction held it).
 */
export async function whileHoldingLock(
  name: string,
  work: () => Promise<void>,
  db: Db = getDb(),
  kind: DbKind = dbKind(),
): Promise<boolean> {
  if (kind === "pglite") {
    await work();
    return true;
  }
  return db.transaction(async (tx) => {
    const result = await tx.execute(sql`select pg_try_advisory_xact_lock(hashtext(${name})) as locked`);
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
      locked: boolean;
    }[];
    if (!rows[0]?.locked) return false;
    await work();
    return true;
  });
}
