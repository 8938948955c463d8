import { getSessionRow, touchSession } from "@/db/queries/sessions";
import { ttyHolderOf } from "@/lib/api/access";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { toApiSession } from "@/lib/sessions/present";
import { deleteSession } from "@/lib/sessions/service";

// GET /api/v1/managed_agents/sessions/{id} – get a session
export const GET = handle(op.getSession, async ({ params, principal }) => {
  const session = toApiSession(await getSessionRow(params.id), ttyHolderOf(principal));
  await touchSession(params.id);
  return json(session);
});

// DELETE /api/v1/managed_agents/sessions/{id} – stop a session (idempotent)
export const DELETE = handle(op.deleteSession, async ({ params }) => json(await deleteSession(params.id)));
