import { deleteAgent } from "@/db/queries/agents";
import { getAgent, updateAgent } from "@/lib/agents/service";
import { handle, json, noContent } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { stopAgentSessions } from "@/lib/sessions/service";

// GET /api/v1/managed_agents/agents/{id} – get an agent
export const GET = handle(op.getAgent, async ({ params }) => json(await getAgent(params.id)));

// PATCH /api/v1/managed_agents/agents/{id} – update an agent
export const PATCH = handle(op.updateAgent, async ({ params, body, principal, audit }) => {
  const { agent, change } = await updateAgent(params.id, body, principal.workspaceId);
  audit.detail = change;
  return json(agent);
});

// DELETE /api/v1/managed_agents/agents/{id} – delete an agent
export const DELETE = handle(op.deleteAgent, async ({ params }) => {
  await stopAgentSessions(params.id);
  await deleteAgent(params.id);
  return noContent();
});
