import { handle, json, noContent } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { NotFoundError } from "@/lib/errors";
import { toMember } from "@/lib/teams/present";
import { changeRole, memberOf, removeMember } from "@/lib/teams/service";

// PATCH /api/v1/members/{user_id} – change a member's role
export const PATCH = handle(op.updateMember, async ({ principal, params, body, audit }) => {
  const before = await memberOf(principal.workspaceId, params.user_id);
  if (!before) throw new NotFoundError(`member ${params.user_id} not found`);
  await changeRole(principal, params.user_id, body.role);
  audit.resourceId = params.user_id;
  audit.detail = { email: before.email, role: { from: before.role, to: body.role } };
  return json(toMember({ ...before, role: body.role }));
});

// DELETE /api/v1/members/{user_id} – remove a member
export const DELETE = handle(op.removeMember, async ({ principal, params, audit }) => {
  const before = await memberOf(principal.workspaceId, params.user_id);
  if (!before) throw new NotFoundError(`member ${params.user_id} not found`);
  await removeMember(principal, params.user_id);
  audit.resourceId = params.user_id;
  audit.detail = { email: before.email, role: before.role };
  return noContent();
});
