import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { archiveManagedSession } from "@/lib/managed/sessions";

// POST /v1/sessions/{id}/archive – archive a session
export const POST = handle(op.managedArchiveSession, async ({ params }) =>
  json(await archiveManagedSession(params.id)),
);
