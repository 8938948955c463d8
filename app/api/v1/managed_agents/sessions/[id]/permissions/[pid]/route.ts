import { getSessionRow } from "@/db/queries/sessions";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { answerPermission } from "@/lib/sessions/messaging";

// POST /api/v1/managed_agents/sessions/{id}/permissions/{pid} – answer a harness's permission request
export const POST = handle(op.answerPermission, async ({ params, body }) => {
  await getSessionRow(params.id);
  await answerPermission(params.id, params.pid, (body.reply ?? body.response)!);
  return json({ ok: true as const });
});
