import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { archiveManagedAgent } from "@/lib/managed/agents";

// POST /v1/agents/{id}/archive – archive an agent
export const POST = handle(op.managedArchiveAgent, async ({ params }) =>
  json(await archiveManagedAgent(params.id)),
);
