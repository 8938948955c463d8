import { pgTable, primaryKey, text } from "drizzle-orm/pg-core";

import { sandboxFileColumns } from "./_columns";
import { agents } from "./agents";

/** Files an agent injects into every session's sandbox, in order. */
export const agentFiles = pgTable(
  "agent_files",
  {
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    ...sandboxFileColumns(),
  },
  (t) => [primaryKey({ name: "agent_files_pkey", columns: [t.agentId, t.position] })],
);
