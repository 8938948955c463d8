import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { publicOrigin } from "@/lib/api/transport";
import { toInvite } from "@/lib/teams/present";
import { createInvite, openInvites } from "@/lib/teams/service";

// GET /api/v1/invites – invites not yet used
export const GET = handle(op.listInvites, async ({ principal }) =>
  json({ data: (await openInvites(principal.workspaceId)).map(toInvite) }),
);

// POST /api/v1/invites – invite someone: the one-time link is in this answer only
export const POST = handle(op.createInvite, async ({ req, principal, body, audit }) => {
  const { row, token } = await createInvite(principal, body);
  audit.resourceId = row.id;
  audit.detail = { email: row.email, role: row.role };
  return json({ ...toInvite(row), token, url: `${publicOrigin(req)}/invite/${token}` }, 201);
});
