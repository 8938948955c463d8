import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

import type { EnvironmentConfig } from "@/lib/schemas/environment";

import { timestamps } from "./_columns";
import { DEFAULT_WORKSPACE_ID, workspaces } from "./workspaces";

/**
 * Where a session runs, as the Managed Agents API describes it: networking (enforced by the egress
 * proxy) and packages (installed at boot). A session copies what it needs at create.
 */
export const environments = pgTable(
  "environments",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .default(DEFAULT_WORKSPACE_ID)
      .references(() => workspaces.id),
    name: text("name").notNull(),
    description: text("description"),
    config: jsonb("config").$type<EnvironmentConfig>().notNull(),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    archivedAt: timestamp("archived_at", { withTimezone: true, mode: "date" }),
    ...timestamps,
  },
  (t) => [index("environments_workspace_idx").on(t.workspaceId)],
);
