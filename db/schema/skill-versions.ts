import { integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

import { skills } from "./skills";

export const skillVersions = pgTable(
  "skill_versions",
  {
    skillId: text("skill_id")
      .notNull()
      .references(() => skills.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    content: text("content").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "skill_versions_pkey", columns: [t.skillId, t.version] })],
);
