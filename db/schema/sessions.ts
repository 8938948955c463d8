import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

import type { HarnessId } from "@/lib/schemas/harness";

import { timestamps } from "./_columns";
import { agents } from "./agents";
import { DEFAULT_WORKSPACE_ID, workspaces } from "./workspaces";

/** What a session runs, frozen at create: editing the agent later does not change it. */
export type SessionConfig = {
  name: string | null;
  model: string;
  prompt: string | null;
  harnessId: HarnessId;
  requirements: string | null;
  repoUrl: string | null;
  branch: string;
  mcpServers: string[];
  allowOut: string[];
  denyOut: string[];
  /** Skills materialised as SKILL.md files: the agent's blocks plus per-session extras. */
  skills: { id: string; name: string; content: string }[];
  /** From the agent's toolsets (lib/managed/tools.ts): Claude Code tool names to disallow or ask about. */
  permissions?: { ask: string[]; disabled: string[] };
};

export type SessionTimings = Partial<Record<string, number>>;

export type SessionSandbox = {
  driver: string;
  isolation: "namespaces" | "container" | "none";
  limits?: string;
};

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .default(DEFAULT_WORKSPACE_ID)
      .references(() => workspaces.id),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    title: text("title"),
    status: text("status").notNull().default("creating"),
    phase: text("phase"),
    phaseDetail: text("phase_detail"),
    failureReason: text("failure_reason"),
    supportsTui: boolean("supports_tui").notNull().default(false),
    config: jsonb("config").$type<SessionConfig>().notNull(),
    /** The agent's env vars at create, re-encrypted for this session (`enc:v1:`). Never per-session ones. */
    envVars: jsonb("env_vars").$type<Record<string, string>>().notNull().default({}),
    sandbox: jsonb("sandbox").$type<SessionSandbox | null>(),
    /** `warm`: the sandbox came from the pool (lib/sessions/pool.ts) and was bound late; `cold`: booted for it. */
    spawnMode: text("spawn_mode").$type<"warm" | "cold">().notNull().default("cold"),
    /** SHA-256 of the per-session token the sandbox uses for the model endpoint (never the token). */
    modelTokenHash: text("model_token_hash").notNull(),
    timings: jsonb("timings").$type<SessionTimings>().notNull().default({}),
    /** The harness's own session id (opencode's ses_…, the Agent SDK's), so turns and restarts resume. */
    harnessSessionId: text("harness_session_id"),
    /** Terminal tokens are bound to it (lib/pty/tokens.ts): bumping it revokes every one minted before. */
    ttyEpoch: integer("tty_epoch").notNull().default(0),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    readyAt: timestamp("ready_at", { withTimezone: true, mode: "date" }),
    stoppedAt: timestamp("stopped_at", { withTimezone: true, mode: "date" }),
    // Managed Agents API fields (lib/managed): the environment it runs in, the agent version it runs.
    environmentId: text("environment_id"),
    agentVersion: integer("agent_version"),
    /** The vaults whose credentials it was given (their values are in `envVars`, sealed). */
    vaultIds: jsonb("vault_ids").$type<string[]>().notNull().default([]),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    archivedAt: timestamp("archived_at", { withTimezone: true, mode: "date" }),
    ...timestamps,
  },
  (t) => [
    index("sessions_workspace_idx").on(t.workspaceId),
    index("sessions_agent_id_idx").on(t.agentId),
    index("sessions_status_idx").on(t.status),
    index("sessions_created_at_idx").on(t.createdAt),
    index("sessions_last_seen_at_idx").on(t.lastSeenAt),
    // The gateway role finds a session by the hash of the token its sandbox presents.
    uniqueIndex("sessions_model_token_hash_idx").on(t.modelTokenHash),
  ],
);
