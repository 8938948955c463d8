import { createAgent, listAgents } from "@/lib/agents/service";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/managed_agents/agents – list agents
export const GET = handle(op.listAgents, async ({ query }) => json(await listAgents(query)));

// POST /api/v1/managed_agents/agents – create an agent
export const POST = handle(op.createAgent, async ({ body }) => json(await createAgent(body), 201));
