import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { listManagedAgentVersions } from "@/lib/managed/agents";

// GET /v1/agents/{id}/versions – the agent's versions, newest first
export const GET = handle(op.managedListAgentVersions, async ({ params, query }) =>
  json(await listManagedAgentVersions(params.id, query)),
);
