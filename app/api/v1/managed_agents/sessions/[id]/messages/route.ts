import { getSessionRow, touchSession } from "@/db/queries/sessions";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { readThread } from "@/lib/sessions/messaging";

// GET /api/v1/managed_agents/sessions/{id}/messages – the thread, folded from Hangar's log
export const GET = handle(op.listMessages, async ({ params }) => {
  const row = await getSessionRow(params.id);
  await touchSession(params.id);
  const thread = await readThread(params.id, row.config.model);
  return json(thread.messages, 200, { "x-hangar-last-seq": String(thread.lastSeq) });
});
