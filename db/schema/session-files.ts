import { integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

import { bytea } from "./_columns";
import { sessions } from "./sessions";

/** The agent's sandbox files as they were when the session was created (restart writes them again). */
export const sessionFiles = pgTable(
  "session_files",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    name: text("name").notNull(),
    sandboxPath: text("sandbox_path").notNull(),
    contentType: text("content_type").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
    content: bytea("content").notNull(),
  },
  (t) => [primaryKey({ name: "session_files_pkey", columns: [t.sessionId, t.position] })],
);
