import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

import type { CredentialAuth } from "@/lib/schemas/vault";

import { timestamps } from "./_columns";
import { DEFAULT_WORKSPACE_ID, workspaces } from "./workspaces";

/** Vaults (Managed Agents API): named sets of credentials a session is given by id. */
export const vaults = pgTable(
  "vaults",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .default(DEFAULT_WORKSPACE_ID)
      .references(() => workspaces.id),
    displayName: text("display_name").notNull(),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    archivedAt: timestamp("archived_at", { withTimezone: true, mode: "date" }),
    ...timestamps,
  },
  (t) => [index("vaults_workspace_idx").on(t.workspaceId)],
);

/** A credential: what it is (`auth`, never the secret) and the secret, AES-256-GCM sealed. */
export const vaultCredentials = pgTable(
  "vault_credentials",
  {
    id: text("id").primaryKey(),
    vaultId: text("vault_id")
      .notNull()
      .references(() => vaults.id, { onDelete: "cascade" }),
    displayName: text("display_name"),
    auth: jsonb("auth").$type<CredentialAuth>().notNull(),
    /** `enc:v1:` ciphertext bound to `credential:<id>:secret`; never plaintext, never answered. */
    secret: text("secret").notNull(),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    archivedAt: timestamp("archived_at", { withTimezone: true, mode: "date" }),
    ...timestamps,
  },
  (t) => [index("vault_credentials_vault_idx").on(t.vaultId)],
);
