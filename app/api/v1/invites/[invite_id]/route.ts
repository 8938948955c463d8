import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { toInvite } from "@/lib/teams/present";
import { cancelInvite } from "@/lib/teams/service";

// DELETE /api/v1/invites/{invite_id} – revoke an unused invite
export const DELETE = handle(op.revokeInvite, async ({ principal, params, audit }) => {
  const row = await cancelInvite(principal.workspaceId, params.invite_id);
  audit.resourceId = row.id;
  audit.detail = { email: row.email };
  return json(toInvite(row));
});
