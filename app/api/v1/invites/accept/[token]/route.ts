import { sessionCookieHeader } from "@/lib/api/browser-session";
import { handle, isHttps, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { recordAudit } from "@/lib/teams/audit";
import { startLogin } from "@/lib/teams/login";
import { acceptInvite, previewInvite } from "@/lib/teams/service";

// GET /api/v1/invites/accept/{token} – what an invite is for
export const GET = handle(op.previewInvite, async ({ params }) => json(await previewInvite(params.token)));

// POST /api/v1/invites/accept/{token} – accept: the account is made (or confirmed) and logged in
export const POST = handle(op.acceptInvite, async ({ req, params, body, requestId }) => {
  const joined = await acceptInvite(params.token, body);
  await recordAudit({
    workspaceId: joined.workspaceId,
    actor: { kind: "user", id: joined.user.id, label: joined.user.email },
    action: "member.join",
    resourceType: "member",
    resourceId: joined.user.id,
    detail: { role: joined.role, invite_id: joined.inviteId },
    requestId,
  });
  const { session, caller } = await startLogin(
    req.headers.get("user-agent"),
    joined.user.id,
    requestId,
    joined.workspaceId,
  );
  return json(caller, 200, {
    "set-cookie": sessionCookieHeader(session.cookie, session.expiresAt, isHttps(req)),
  });
});
