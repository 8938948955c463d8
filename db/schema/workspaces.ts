import { index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

import type { WorkspaceRole } from "@/lib/schemas/roles";

/** The workspace every existing row was moved into by migration 0007; the master key's default. */
export const DEFAULT_WORKSPACE_ID = "ws_default";

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** A workspace: agents, skills, sessions, keys and audit entries each belong to exactly one. */
export const workspaces = pgTable("workspaces", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: at("created_at").notNull().defaultNow(),
});

/** Local accounts (and OIDC sign-ins). The password is an scrypt hash (lib/auth/password.ts), or null. */
export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Lower-cased. */
    email: text("email").notNull(),
    name: text("name"),
    passwordHash: text("password_hash"),
    oidcIssuer: text("oidc_issuer"),
    oidcSubject: text("oidc_subject"),
    createdAt: at("created_at").notNull().defaultNow(),
    disabledAt: at("disabled_at"),
  },
  (t) => [
    uniqueIndex("users_email_idx").on(t.email),
    uniqueIndex("users_oidc_idx").on(t.oidcIssuer, t.oidcSubject),
  ],
);

export const workspaceMembers = pgTable(
  "workspace_members",
  {
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role").$type<WorkspaceRole>().notNull(),
    createdAt: at("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.userId] }),
    index("workspace_members_user_idx").on(t.userId),
  ],
);

/** A one-time link an admin hands to a new member; only its SHA-256 is kept. */
export const invites = pgTable(
  "invites",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role").$type<WorkspaceRole>().notNull(),
    tokenHash: text("token_hash").notNull(),
    createdBy: text("created_by").notNull(),
    expiresAt: at("expires_at").notNull(),
    acceptedAt: at("accepted_at"),
    revokedAt: at("revoked_at"),
    createdAt: at("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("invites_token_hash_idx").on(t.tokenHash),
    index("invites_workspace_idx").on(t.workspaceId),
  ],
);

/** API keys (`hgr_…`): shown once, kept as a SHA-256 of the whole key. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    role: text("role").$type<WorkspaceRole>().notNull(),
    /** null: every agent of the workspace; else only these agents and their sessions. */
    agentIds: jsonb("agent_ids").$type<string[] | null>(),
    tokenHash: text("token_hash").notNull(),
    /** The key's last four characters, so a person can tell keys apart. */
    tokenTail: text("token_tail").notNull(),
    createdBy: text("created_by").notNull(),
    expiresAt: at("expires_at"),
    lastUsedAt: at("last_used_at"),
    revokedAt: at("revoked_at"),
    createdAt: at("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("api_keys_token_hash_idx").on(t.tokenHash),
    index("api_keys_workspace_idx").on(t.workspaceId),
  ],
);
