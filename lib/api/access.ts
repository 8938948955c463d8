import { resourceScope, type ScopedKind } from "@/db/queries/scope";
import { NotFoundError } from "@/lib/errors";
import type { TtyHolder } from "@/lib/pty/tokens";
import { roleAllows, type WorkspaceRole } from "@/lib/schemas/roles";

import type { Principal } from "./auth";
import { ApiError } from "./errors";

/*
 * The one place that decides who may do what, for REST, SSE, the opencode proxy and the terminal
 * WebSocket alike. Two questions, in this order:
 * 1. Is the resource in the caller's reach? It must be in the caller's workspace and, for a key with
 *    an agent allow-list, belong to one of those agents. If not, the answer is the same 404 an
 *    unknown id gets: a caller learns nothing about other workspaces' ids.
 * 2. Does the caller's role allow the action? If not, 403 naming the role needed.
 */

export type Access = "signed_in" | WorkspaceRole;

/** Whether `principal` may reach an agent (by id) at all; keys with an allow-list reach only those. */
export function reachesAgent(principal: Principal, agentId: string | null): boolean {
  return principal.agentIds === null || (agentId !== null && principal.agentIds.includes(agentId));
}

/** 404 unless the resource exists in the caller's workspace and reach. */
export async function assertInReach(principal: Principal, kind: ScopedKind, id: string): Promise<void> {
  const scope = await resourceScope(kind, id);
  const reachable =
    scope !== null &&
    scope.workspaceId === principal.workspaceId &&
    (scope.agentId === null || reachesAgent(principal, scope.agentId));
  if (!reachable) throw new NotFoundError(`${kind} ${id} not found`);
}

/** 403 unless the caller's role allows `needed`. */
export function assertRole(principal: Principal, needed: Access): void {
  if (needed === "signed_in" || roleAllows(principal.role, needed)) return;
  throw new ApiError(
    "forbidden",
    `This needs the ${needed} role in this workspace; ${describe(principal)} has ${principal.role}`,
  );
}

/** Both checks, reach first (so a stranger's id is a 404 whatever the role). */
export async function authorize(
  principal: Principal,
  needed: Access,
  resource?: { kind: ScopedKind; id: string },
): Promise<void> {
  if (resource) await assertInReach(principal, resource.kind, resource.id);
  assertRole(principal, needed);
}

/** Whom a terminal token minted for this caller is for: its credential, and typing only from operator up. */
export function ttyHolderOf(principal: Principal): TtyHolder {
  return {
    credential: principal.credentials[0] ?? "master",
    mode: roleAllows(principal.role, "operator") ? "write" : "read",
  };
}

function describe(principal: Principal): string {
  if (principal.actor.kind === "key") return `the API key "${principal.actor.label}"`;
  if (principal.actor.kind === "user") return principal.actor.label;
  return "the master key";
}
