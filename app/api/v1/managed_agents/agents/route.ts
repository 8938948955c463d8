import { createAgent, listAgents } from "@/lib/agents/service";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/managed_agents/agents – list agents
export const GET = handle(op.listAgents, async ({ query, principal }) =>
  json(await listAgents(query, principal)),
);

// POST /api/v1/managed_agents/agents – create an agent
export const POST = handle(op.createAgent, async ({ body, principal, audit }) => {
  const agent = await createAgent(body, principal.workspaceId);
  audit.detail = {
    name: agent.name,
    model: agent.model,
    harness_id: agent.harness_id,
    secrets_touched: Object.keys(agent.env_vars).sort(),
  };
  return json(agent, 201);
});
