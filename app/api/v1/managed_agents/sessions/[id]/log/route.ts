import { getSessionRow, listSessionEvents, touchSession } from "@/db/queries/sessions";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/managed_agents/sessions/{id}/log – the session's event timeline
export const GET = handle(op.sessionLog, async ({ params, query }) => {
  await getSessionRow(params.id);
  await touchSession(params.id);
  return json({ data: await listSessionEvents(params.id, query.after, query.limit) });
});
