import { bigserial, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

import { workspaces } from "./workspaces";

/**
 * The audit log. Append-only: the code has no UPDATE or DELETE of it (a test reads the sources), and
 * migration 0007 adds a trigger that refuses both. `seq` orders entries and is the page cursor.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    seq: bigserial("seq", { mode: "number" }).primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** master | user | key | anonymous */
    actorKind: text("actor_kind").notNull(),
    actorId: text("actor_id"),
    /** An email, a key's name, or "master key". */
    actorLabel: text("actor_label").notNull(),
    action: text("action").notNull(),
    resourceType: text("resource_type"),
    resourceId: text("resource_id"),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
    requestId: text("request_id"),
  },
  (t) => [
    index("audit_events_workspace_seq_idx").on(t.workspaceId, t.seq),
    index("audit_events_resource_idx").on(t.resourceId),
  ],
);
