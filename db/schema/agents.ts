import { index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";

import type { HarnessId } from "@/lib/schemas/harness";

import { timestamps } from "./_columns";
import { DEFAULT_WORKSPACE_ID, workspaces } from "./workspaces";

export const agents = pgTable(
  "agents",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .default(DEFAULT_WORKSPACE_ID)
      .references(() => workspaces.id),
    name: text("name"),
    model: text("model").notNull(),
    /** The full prompt, including `<!-- skill:<id> -->` blocks (the record of attached skills). */
    prompt: text("prompt"),
    harnessId: text("harness_id").$type<HarnessId>().notNull().default("opencode"),
    requirements: text("requirements"),
    repoUrl: text("repo_url"),
    branch: text("branch").notNull().default("main"),
    pfpUrl: text("pfp_url"),
    mcpServers: jsonb("mcp_servers").$type<string[]>().notNull().default([]),
    allowOut: jsonb("allow_out").$type<string[]>().notNull().default([]),
    denyOut: jsonb("deny_out").$type<string[]>().notNull().default([]),
    /** Key → AES-256-GCM ciphertext (`enc:v1:`), never plaintext. */
    envVars: jsonb("env_vars").$type<Record<string, string>>().notNull().default({}),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index("agents_workspace_idx").on(t.workspaceId),
    index("agents_created_at_idx").on(t.createdAt),
    index("agents_updated_at_idx").on(t.updatedAt),
    index("agents_name_idx").on(t.name),
  ],
);
