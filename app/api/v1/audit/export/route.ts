import { readAudit } from "@/db/queries/audit";
import { handle } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { toAuditEntry } from "@/lib/teams/present";

const PAGE = 1000;

// GET /api/v1/audit/export – the audit log as JSON lines, read page by page as it is sent
export const GET = handle(op.exportAudit, async ({ principal, query }) => {
  async function* lines() {
    let cursor = query.cursor;
    let left = query.limit;
    while (left > 0) {
      const page = await readAudit(principal.workspaceId, { ...query, cursor, limit: Math.min(PAGE, left) });
      for (const row of page.data) yield `${JSON.stringify(toAuditEntry(row))}\n`;
      left -= page.data.length;
      if (page.nextCursor === null) return;
      cursor = page.nextCursor;
    }
  }
  return {
    status: 200,
    headers: {
      "content-type": "application/x-ndjson",
      "content-disposition": `attachment; filename="hangar-audit-${principal.workspaceId}.jsonl"`,
    },
    stream: lines(),
  };
});
