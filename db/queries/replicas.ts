import { gt, lt, sql } from "drizzle-orm";

import { replicas } from "@/db/schema";
import { getDb } from "@/lib/runtime";

/** Records that this process is alive (and, now and then, forgets processes long gone). */
export async function beat(id: string, now = new Date()) {
  await getDb()
    .insert(replicas)
    .values({ id, seenAt: now })
    .onConflictDoUpdate({ target: replicas.id, set: { seenAt: sql`excluded.seen_at` } });
}

export async function forgetReplicasBefore(cutoff: Date) {
  await getDb().delete(replicas).where(lt(replicas.seenAt, cutoff));
}

/** The processes seen since `cutoff`. */
export async function replicasSeenSince(cutoff: Date): Promise<Set<string>> {
  const rows = await getDb().select({ id: replicas.id }).from(replicas).where(gt(replicas.seenAt, cutoff));
  return new Set(rows.map((r) => r.id));
}
