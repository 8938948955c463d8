import { z } from "zod";

import { isoDateTimeSchema } from "./common";

/*
 * Shapes shared by the Managed Agents API facade (/v1/...; docs/managed-agents.md): Anthropic's
 * wire format, as its official SDKs send and expect it. Hangar's own resources stay in their files;
 * these are the facade's views of them.
 */

/** The SDK's beta flag (`?beta=true`) rides on every request; it is accepted and ignored. */
export const betaQuerySchema = z.object({ beta: z.enum(["true", "false"]).optional() });

/** Anthropic's metadata limits: 16 keys, keys up to 64 characters, values up to 512. */
export const metadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, "metadata holds at most 16 keys");

/** On update a null value deletes the key; the others are set. */
export const metadataPatchSchema = z.record(z.string().min(1).max(64), z.string().max(512).nullable());

export function mergeMetadata(
  stored: Record<string, string>,
  patch: Record<string, string | null> | null | undefined,
): Record<string, string> {
  if (patch === undefined) return stored;
  if (patch === null) return {};
  const next = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/**
 * A cursor page's query: `limit` and the opaque `page` cursor from the previous page. Strict: a
 * filter Hangar does not apply (say `created_at[gte]`) is a 400, never silently ignored.
 */
export const cursorQuerySchema = z.strictObject({
  ...betaQuerySchema.shape,
  limit: z.coerce.number().int().min(1).max(100).default(20),
  page: z.string().max(200).optional(),
  include_archived: z.enum(["true", "false"]).optional(),
});

export type CursorQuery = z.infer<typeof cursorQuerySchema>;

/** The lifecycle timestamps every facade object carries. */
export const lifecycleFields = {
  created_at: isoDateTimeSchema,
  updated_at: isoDateTimeSchema,
  archived_at: isoDateTimeSchema.nullable(),
};

export function cursorPageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), next_page: z.string().nullable() });
}

export const resourceIdParamsSchema = z.object({ id: z.string().min(1).max(64) });

/** `{id, type: "<resource>_deleted"}`, the answer to a delete. */
export function deletedSchema<T extends string>(type: T) {
  return z.object({ id: z.string(), type: z.literal(type) });
}

/** Anthropic's error envelope, which every facade error answers with (lib/api/anthropic-errors.ts). */
export const anthropicErrorSchema = z.object({
  type: z.literal("error"),
  error: z.object({ type: z.string(), message: z.string() }),
  request_id: z.string(),
});
