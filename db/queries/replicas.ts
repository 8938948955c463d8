import { gt, lt, sql } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { replicas } from "@/db/schema";

/** Records that this process is alive (and, now and then, forgets processes long gone). */
export async function beat(id: string, now = new Date(), db: Db = getDb()) {
  await db
    .insert(replicas)
    .values({ id, seenAt: now })
    .onConflictDoUpdate({ target: replicas.id, set: { seenAt: sql`excluded.seen_at` } });
}

export async function forgetReplicasBefore(cutoff: Date, db: Db = getDb()) {
  await db.delete(replicas).where(lt(replicas.seenAt, cutoff));
}

/** The processes seen since `cutoff`. */
export async function replicasSeenSince(cutoff: Date, db: Db = getDb()): Promise<Set<string>> {
  const rows = await db.select({ id: replicas.id }).from(replicas).where(gt(replicas.seenAt, cutoff));
  return new Set(rows.map((r) => r.id));
}
