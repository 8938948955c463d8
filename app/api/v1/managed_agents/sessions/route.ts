import { listSessionRows } from "@/db/queries/sessions";
import { ttyHolderOf } from "@/lib/api/access";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { toApiSessionPage } from "@/lib/sessions/present";

// GET /api/v1/managed_agents/sessions – list sessions, newest first
export const GET = handle(op.listSessions, async ({ query, principal }) =>
  json(toApiSessionPage(await listSessionRows(query, principal), ttyHolderOf(principal))),
);
