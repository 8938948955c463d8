import { z } from "zod";

import { isoDateTimeSchema } from "./common";
import { workspaceRoleSchema } from "./roles";

/** Every API key starts with this, so a leaked one is recognisable (and secret scanners can match it). */
export const API_KEY_PREFIX = "hgr_";

export const createApiKeySchema = z.object({
  name: z.string().trim().min(1, "name is required").max(100),
  role: workspaceRoleSchema,
  /** Only these agents (and their sessions); omitted or null for every agent of the workspace. */
  agent_ids: z
    .array(z.string().min(1).max(64))
    .min(1, "pick at least one agent")
    .max(100)
    .nullable()
    .optional(),
  /** Days until the key stops working; omitted or null for no expiry. */
  expires_in_days: z.number().int().min(1).max(3650).nullable().optional(),
});

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: workspaceRoleSchema,
  agent_ids: z.array(z.string()).nullable(),
  /** `hgr_…` and the last four characters: enough to tell keys apart, useless to an attacker. */
  hint: z.string(),
  created_by: z.string(),
  created_at: isoDateTimeSchema,
  expires_at: isoDateTimeSchema.nullable(),
  last_used_at: isoDateTimeSchema.nullable(),
  revoked_at: isoDateTimeSchema.nullable(),
});

/** The answer to creating a key: the only time the key itself is shown. */
export const createdApiKeySchema = apiKeySchema.extend({ key: z.string() });

export const apiKeyListSchema = z.object({ data: z.array(apiKeySchema) });

export const apiKeyParamsSchema = z.object({ key_id: z.string().min(1).max(64) });

export type ApiKey = z.infer<typeof apiKeySchema>;
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;
export type CreateApiKeyInput = z.input<typeof createApiKeySchema>;
