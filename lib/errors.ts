/*
 * Errors the data layer and the services throw, in the domain's words. lib/api/errors.ts alone turns
 * them into HTTP replies (status, code, envelope).
 */
import type { ErrorIssue } from "@/lib/schemas/common";

/** The base of every domain error, so a catch can tell them from failures. */
export class DomainError extends Error {}

/** What was asked for does not exist. */
export class NotFoundError extends DomainError {}

/** The caller is known but may not do this (its role, or its kind of credential). */
export class ForbiddenError extends DomainError {}

/** The request clashes with the current state: a stale version, a session still starting. */
export class ConflictError extends DomainError {}

/** Input that is well-formed but cannot be applied; `issues` say where. */
export class ValidationError extends DomainError {
  constructor(
    message: string,
    readonly issues: ErrorIssue[],
  ) {
    super(message);
  }
}
