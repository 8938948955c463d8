import { integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

import { bytea } from "./_columns";
import { agents } from "./agents";

/** Files an agent injects into every session's sandbox, in order. */
export const agentFiles = pgTable(
  "agent_files",
  {
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    name: text("name").notNull(),
    sandboxPath: text("sandbox_path").notNull(),
    contentType: text("content_type").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
    content: bytea("content").notNull(),
  },
  (t) => [primaryKey({ name: "agent_files_pkey", columns: [t.agentId, t.position] })],
);
