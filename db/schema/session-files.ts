import { pgTable, primaryKey, text } from "drizzle-orm/pg-core";

import { sandboxFileColumns } from "./_columns";
import { sessions } from "./sessions";

/** The agent's sandbox files as they were when the session was created (restart writes them again). */
export const sessionFiles = pgTable(
  "session_files",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    ...sandboxFileColumns(),
  },
  (t) => [primaryKey({ name: "session_files_pkey", columns: [t.sessionId, t.position] })],
);
