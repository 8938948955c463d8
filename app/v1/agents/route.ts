import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { createManagedAgent, listManagedAgents } from "@/lib/managed/agents";

// GET /v1/agents – list agents (Managed Agents API)
export const GET = handle(op.managedListAgents, async ({ query, principal }) =>
  json(await listManagedAgents(query, principal)),
);

// POST /v1/agents – create an agent
export const POST = handle(op.managedCreateAgent, async ({ body, principal, audit }) => {
  const agent = await createManagedAgent(body, principal.workspaceId);
  audit.detail = {
    name: agent.name,
    model: agent.model.id,
    harness_id: agent.harness_id,
    via: "managed_agents_api",
  };
  return json(agent);
});
