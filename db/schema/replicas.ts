import { pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Hangar processes sharing this database, each with a heartbeat: a turn or a sandbox whose process
 * stopped beating is left to another to settle (web replicas on Kubernetes).
 */
export const replicas = pgTable("replicas", {
  id: text("id").primaryKey(),
  seenAt: timestamp("seen_at", { withTimezone: true }).notNull(),
});
