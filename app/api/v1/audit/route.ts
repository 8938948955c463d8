import { readAudit } from "@/db/queries/audit";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { toAuditEntry } from "@/lib/teams/present";

// GET /api/v1/audit – the workspace's audit log, oldest first, in cursor pages
export const GET = handle(op.listAudit, async ({ principal, query }) => {
  const page = await readAudit(principal.workspaceId, query);
  return json({ data: page.data.map(toAuditEntry), next_cursor: page.nextCursor });
});
