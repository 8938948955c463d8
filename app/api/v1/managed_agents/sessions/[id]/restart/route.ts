import { ttyHolderOf } from "@/lib/api/access";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { restartSession } from "@/lib/sessions/service";

// POST /api/v1/managed_agents/sessions/{id}/restart – a new sandbox with the same configuration
export const POST = handle(op.restartSession, async ({ params, body, principal }) =>
  json(await restartSession(params.id, body.env_vars, ttyHolderOf(principal))),
);
