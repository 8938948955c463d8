import { index, integer, pgTable, text } from "drizzle-orm/pg-core";

import { timestamps } from "./_columns";
import { DEFAULT_WORKSPACE_ID, workspaces } from "./workspaces";

export const skills = pgTable(
  "skills",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .default(DEFAULT_WORKSPACE_ID)
      .references(() => workspaces.id),
    name: text("name").notNull(),
    description: text("description"),
    content: text("content").notNull(),
    /** Number of the current content; every version, current included, is in skill_versions. */
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index("skills_workspace_idx").on(t.workspaceId),
    index("skills_created_at_idx").on(t.createdAt),
    index("skills_name_idx").on(t.name),
  ],
);
