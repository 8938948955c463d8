import { ZodError } from "zod";

import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "@/lib/errors";
import { log } from "@/lib/log";
import type { ErrorCode, ErrorEnvelope, ErrorIssue } from "@/lib/schemas/common";

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  upgrade_required: 426,
  too_many_requests: 429,
  internal_error: 500,
  bad_gateway: 502,
  unavailable: 503,
};

/** An error meant for the caller: its code, message and issues go on the wire as they are. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: ErrorIssue[],
  ) {
    super(message);
  }

  get status(): number {
    return STATUS[this.code];
  }
}

function envelope(code: ErrorCode, message: string, issues?: ErrorIssue[]): ErrorEnvelope {
  return { error: issues ? { code, message, issues } : { code, message } };
}

function errorReply(err: ApiError) {
  return { status: err.status, json: envelope(err.code, err.message, err.issues) };
}

export function zodIssues(err: ZodError, prefix: (string | number)[] = []): ErrorIssue[] {
  return err.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
    message: issue.message,
  }));
}

/**
 * The reply-shaped form of an error meant for the caller: an ApiError as it is, a domain error
 * (lib/errors) with its HTTP code; null for anything else (a failure, not for the caller's eyes).
 */
export function asApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof NotFoundError) return new ApiError("not_found", err.message);
  if (err instanceof ConflictError) return new ApiError("conflict", err.message);
  if (err instanceof ForbiddenError) return new ApiError("forbidden", err.message);
  if (err instanceof ValidationError) return new ApiError("validation_failed", err.message, err.issues);
  return null;
}

type PgError = { code?: string; constraint_name?: string; constraint?: string };

/** Maps anything thrown by a handler to a reply; unexpected errors are logged, never echoed. */
export function toErrorReply(err: unknown, requestId: string): { status: number; json: ErrorEnvelope } {
  const api = asApiError(err);
  if (api) return errorReply(api);
  if (err instanceof ZodError) {
    const issues = zodIssues(err);
    return errorReply(new ApiError("validation_failed", summarise(issues), issues));
  }
  const pg = err as PgError;
  if (pg?.code === "23505") {
    const constraint = pg.constraint_name ?? pg.constraint ?? "unique";
    return errorReply(new ApiError("conflict", `conflicts with an existing record (${constraint})`));
  }
  log.error("unhandled error", { requestId, err });
  return errorReply(
    new ApiError("internal_error", `Something went wrong on our side (request ${requestId}).`),
  );
}

export function summarise(issues: ErrorIssue[]): string {
  const first = issues[0];
  if (!first) return "invalid request";
  const where = first.path.length ? `${first.path.join(".")}: ` : "";
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `${where}${first.message}${more}`;
}
