import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Browser logins. The cookie carries the id and a signature; a row makes logout revoke it for real. */
export const browserSessions = pgTable(
  "browser_sessions",
  {
    id: text("id").primaryKey(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    userAgent: text("user_agent"),
  },
  (t) => [index("browser_sessions_expires_at_idx").on(t.expiresAt)],
);
