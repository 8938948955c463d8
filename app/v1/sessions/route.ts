import { assertInReach, ttyHolderOf } from "@/lib/api/access";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { agentRefOf, createManagedSession, listManagedSessions } from "@/lib/managed/sessions";

// GET /v1/sessions – list sessions
export const GET = handle(op.managedListSessions, async ({ query, principal }) =>
  json(await listManagedSessions(query, principal)),
);

// POST /v1/sessions – create a session
export const POST = handle(op.managedCreateSession, async ({ body, principal, audit }) => {
  // Both ids are in the body: another workspace's (or a key's unlisted agent) answer 404.
  await assertInReach(principal, "agent", agentRefOf(body).agentId);
  await assertInReach(principal, "environment", body.environment_id);
  const session = await createManagedSession(body, ttyHolderOf(principal));
  audit.resourceType = "session";
  audit.resourceId = session.id;
  audit.detail = {
    agent_id: session.agent.id,
    environment_id: session.environment_id,
    via: "managed_agents_api",
  };
  return json(session);
});
