import { z } from "zod";

import { isoDateTimeSchema } from "./common";
import { emailSchema } from "./member";
import { workspaceRoleSchema } from "./roles";

/** Logging in with the master key: the bootstrap administrator (and automation that predates keys). */
export const masterKeyLoginSchema = z.object({
  master_key: z.string().min(1, "Paste the master key").max(1024),
});

/** Logging in as a user: a local account's email and password. */
export const passwordLoginSchema = z.object({
  email: emailSchema,
  password: z.string().min(1, "Enter your password").max(256),
});

/** POST /api/v1/auth/login: either form, traded for an HttpOnly session cookie. */
export const loginSchema = z.union([masterKeyLoginSchema, passwordLoginSchema]);

export const authSessionSchema = z.object({
  /** How the caller came: the master key, a browser login (cookie), or an API key. */
  kind: z.enum(["master", "browser", "key"]),
  expires_at: isoDateTimeSchema.nullable(),
  /** The signed-in user; null for the master key and API keys. */
  user: z.object({ id: z.string(), email: z.string(), name: z.string().nullable() }).nullable(),
  /** The API key in use, if one is. */
  key: z.object({ id: z.string(), name: z.string(), agent_ids: z.array(z.string()).nullable() }).nullable(),
  workspace: z.object({ id: z.string(), name: z.string() }),
  role: workspaceRoleSchema,
});

export type LoginInput = z.infer<typeof loginSchema>;
export type MasterKeyLoginInput = z.infer<typeof masterKeyLoginSchema>;
export type PasswordLoginInput = z.infer<typeof passwordLoginSchema>;
export type AuthSession = z.infer<typeof authSessionSchema>;
