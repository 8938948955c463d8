import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { createSession } from "@/lib/sessions/service";

// POST /api/v1/managed_agents/agents/{id}/session – start a session; it boots in the background
export const POST = handle(op.createSession, async ({ params, body }) =>
  json(await createSession(params.id, body), 201),
);
