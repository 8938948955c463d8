import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { getManagedAgent, updateManagedAgent } from "@/lib/managed/agents";

// GET /v1/agents/{id} – the agent, or one of its versions
export const GET = handle(op.managedGetAgent, async ({ params, query }) =>
  json(await getManagedAgent(params.id, query.version)),
);

// POST /v1/agents/{id} – update an agent
export const POST = handle(op.managedUpdateAgent, async ({ params, body, principal, audit }) => {
  const agent = await updateManagedAgent(params.id, body, principal.workspaceId);
  audit.detail = { fields: Object.keys(body).sort(), version: agent.version, via: "managed_agents_api" };
  return json(agent);
});
