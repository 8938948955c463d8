import { z } from "zod";

// In the browser, no `new Function` probe: the pages' CSP forbids eval and reports every try.
if (typeof window !== "undefined") z.config({ jitless: true });

/** Query-string pagination shared by every list endpoint. */
export const paginationQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const sortOrderSchema = z.enum(["asc", "desc"]).default("desc");

export const searchQuerySchema = z.string().trim().max(200).optional();

/** `{data, total, limit, offset}`, the list envelope of every paginated endpoint. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  });
}

export const errorCodeSchema = z.enum([
  "bad_request",
  "validation_failed",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "gone",
  "bad_gateway",
  "payload_too_large",
  "upgrade_required",
  "too_many_requests",
  "internal_error",
  "unavailable",
]);

export const errorIssueSchema = z.object({
  path: z.array(z.union([z.string(), z.number()])),
  message: z.string(),
});

/** The one error envelope every route answers with. */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    issues: z.array(errorIssueSchema).optional(),
  }),
});

export type ErrorCode = z.infer<typeof errorCodeSchema>;
export type ErrorIssue = z.infer<typeof errorIssueSchema>;
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

export const isoDateTimeSchema = z.string().meta({ format: "date-time" });
