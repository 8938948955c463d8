import { z } from "zod";

import { isoDateTimeSchema } from "./common";

export const auditEntrySchema = z.object({
  seq: z.number().int(),
  at: isoDateTimeSchema,
  actor: z.object({
    kind: z.enum(["master", "user", "key", "anonymous"]),
    id: z.string().nullable(),
    label: z.string(),
  }),
  action: z.string(),
  resource: z.object({ type: z.string().nullable(), id: z.string().nullable() }),
  /** Non-secret facts: changed fields with before and after, names of secret fields touched. */
  detail: z.record(z.string(), z.unknown()),
  request_id: z.string().nullable(),
});

export const auditQuerySchema = z.object({
  /** A user id, key id, or `master`. */
  actor: z.string().trim().max(100).optional(),
  /** An action, or a prefix ending in `.` (e.g. `agent.`). */
  action: z.string().trim().max(100).optional(),
  /** A resource id. */
  resource: z.string().trim().max(100).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  /** Entries after this `seq` (oldest first), from `next_cursor` of the previous page. */
  cursor: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** The export's query: the same filters, and by default every entry. */
export const auditExportQuerySchema = auditQuerySchema
  .omit({ limit: true })
  .extend({ limit: z.coerce.number().int().min(1).max(1_000_000).default(1_000_000) });

export const auditPageSchema = z.object({
  data: z.array(auditEntrySchema),
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: z.number().int().nullable(),
});

export type AuditEntry = z.infer<typeof auditEntrySchema>;
export type AuditQuery = z.infer<typeof auditQuerySchema>;
