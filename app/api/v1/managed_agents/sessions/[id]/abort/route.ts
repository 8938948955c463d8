import { getSessionRow } from "@/db/queries/sessions";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { abortTurn } from "@/lib/sessions/messaging";

// POST /api/v1/managed_agents/sessions/{id}/abort – stop the running turn
export const POST = handle(op.abortTurn, async ({ params }) => {
  await getSessionRow(params.id);
  return json({ ok: true as const, aborted: await abortTurn(params.id) });
});
