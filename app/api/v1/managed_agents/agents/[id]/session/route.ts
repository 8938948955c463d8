import { ttyHolderOf } from "@/lib/api/access";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { createSession } from "@/lib/sessions/service";

// POST /api/v1/managed_agents/agents/{id}/session – start a session; it boots in the background
export const POST = handle(op.createSession, async ({ params, body, principal, audit }) => {
  const session = await createSession(params.id, body, ttyHolderOf(principal));
  audit.resourceType = "session";
  audit.resourceId = session.id;
  audit.detail = { agent_id: params.id, env_vars_named: Object.keys(body.env_vars ?? {}).sort() };
  return json(session, 201);
});
