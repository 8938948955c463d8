import { ZodError } from "zod";

import type { ErrorCode, ErrorEnvelope, ErrorIssue } from "@/lib/schemas/common";
import { log } from "@/lib/log";

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

export class NotFoundError extends ApiError {
  constructor(message: string) {
    super("not_found", message);
  }
}

export class ConflictError extends ApiError {
  constructor(message: string) {
    super("conflict", message);
  }
}

export class ValidationError extends ApiError {
  constructor(message: string, issues: ErrorIssue[]) {
    super("validation_failed", message, issues);
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

type PgError = { code?: string; constraint_name?: string; constraint?: string };

/** Maps anything thrown by a handler to a reply; unexpected errors are logged, never echoed. */
export function toErrorReply(err: unknown, requestId: string): { status: number; json: ErrorEnvelope } {
  if (err instanceof ApiError) return errorReply(err);
  if (err instanceof ZodError) {
    const issues = zodIssues(err);
    return errorReply(new ValidationError(summarise(issues), issues));
  }
  const pg = err as PgError;
  if (pg?.code === "23505") {
    const constraint = pg.constraint_name ?? pg.constraint ?? "unique";
    return errorReply(new ConflictError(`conflicts with an existing record (${constraint})`));
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
