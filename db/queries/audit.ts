import { and, asc, eq, gt, gte, like, lte, type SQL } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { auditEvents } from "@/db/schema";
import type { AuditQuery } from "@/lib/schemas/audit";

/*
 * The audit log's only two statements: append, and read. There is no update or delete here or
 * anywhere (lib/audit.test.ts reads the sources), and the table's trigger refuses both.
 */

export type AuditRow = typeof auditEvents.$inferSelect;
export type NewAuditEntry = Omit<typeof auditEvents.$inferInsert, "seq" | "at">;

export async function appendAudit(entry: NewAuditEntry, db: Db = getDb()): Promise<void> {
  await db.insert(auditEvents).values(entry);
}

/** One page, oldest first, after `cursor`; one more row is read to tell whether a next page exists. */
export async function readAudit(workspaceId: string, query: AuditQuery, db: Db = getDb()) {
  const where: SQL[] = [eq(auditEvents.workspaceId, workspaceId)];
  if (query.cursor !== undefined) where.push(gt(auditEvents.seq, query.cursor));
  if (query.actor) {
    where.push(
      query.actor === "master" ? eq(auditEvents.actorKind, "master") : eq(auditEvents.actorId, query.actor),
    );
  }
  if (query.action) {
    where.push(
      query.action.endsWith(".")
        ? like(auditEvents.action, `${query.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
        : eq(auditEvents.action, query.action),
    );
  }
  if (query.resource) where.push(eq(auditEvents.resourceId, query.resource));
  if (query.since) where.push(gte(auditEvents.at, new Date(query.since)));
  if (query.until) where.push(lte(auditEvents.at, new Date(query.until)));
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(asc(auditEvents.seq))
    .limit(query.limit + 1);
  const more = rows.length > query.limit;
  const data = more ? rows.slice(0, query.limit) : rows;
  return { data, nextCursor: more ? (data.at(-1)?.seq ?? null) : null };
}
