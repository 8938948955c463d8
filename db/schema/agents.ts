import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

import type { HarnessId } from "@/lib/schemas/harness";
import type { ManagedToolset } from "@/lib/schemas/managed-agent";

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
    // Managed Agents API fields (lib/managed): Hangar's own API leaves them as they are.
    description: text("description"),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    /** The agent's toolsets as the Managed Agents API set them (lib/schemas/managed-agent.ts). */
    tools: jsonb("tools").$type<ManagedToolset[]>().notNull().default([]),
    /** MCP server URL → the name the Managed Agents API gave it. */
    mcpNames: jsonb("mcp_names").$type<Record<string, string>>().notNull().default({}),
    archivedAt: timestamp("archived_at", { withTimezone: true, mode: "date" }),
    ...timestamps,
  },
  (t) => [
    index("agents_workspace_idx").on(t.workspaceId),
    index("agents_created_at_idx").on(t.createdAt),
    index("agents_updated_at_idx").on(t.updatedAt),
    index("agents_name_idx").on(t.name),
  ],
);

/** What an agent was at each version, so a session can run a pinned one and `versions` can list them. */
export const agentVersions = pgTable(
  "agent_versions",
  {
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    /** The agent row at that version, without its env var ciphertext (lib/agents/versions.ts). */
    snapshot: jsonb("snapshot").$type<AgentSnapshot>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "agent_versions_pkey", columns: [t.agentId, t.version] })],
);

type AgentColumns = typeof agents.$inferSelect;

/** An agent's configuration at one version; dates as ISO strings (it is stored as JSON). */
export type AgentSnapshot = Omit<
  AgentColumns,
  "envVars" | "workspaceId" | "createdAt" | "updatedAt" | "archivedAt"
> & {
  updatedAt: string;
};
