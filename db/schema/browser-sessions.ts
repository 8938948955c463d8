import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

import { users, workspaces } from "./workspaces";

/** Browser logins. The cookie carries the id and a signature; a row makes logout revoke it for real. */
export const browserSessions = pgTable(
  "browser_sessions",
  {
    id: text("id").primaryKey(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    userAgent: text("user_agent"),
    /** Whose login this is; null for a login with the master key (the bootstrap administrator). */
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    /** The workspace this login works in now (the switcher moves it). */
    workspaceId: text("workspace_id").references(() => workspaces.id, { onDelete: "set null" }),
  },
  (t) => [index("browser_sessions_expires_at_idx").on(t.expiresAt)],
);
