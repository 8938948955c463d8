import { getSessionRow } from "@/db/queries/sessions";
import { handle } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { sandboxLog } from "@/lib/sessions/logs";

// GET /api/v1/managed_agents/sessions/{id}/sandbox_logs – bootstrap and harness output, plain text
export const GET = handle(op.sandboxLogs, async ({ params, query }) => {
  await getSessionRow(params.id);
  const text = await sandboxLog(params.id, query.tail_lines);
  return { status: 200, bytes: Buffer.from(text), headers: { "content-type": "text/plain; charset=utf-8" } };
});
