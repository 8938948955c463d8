import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { deleteManagedSession, getManagedSession, updateManagedSession } from "@/lib/managed/sessions";

// GET /v1/sessions/{id} – a session
export const GET = handle(op.managedGetSession, async ({ params }) =>
  json(await getManagedSession(params.id)),
);

// POST /v1/sessions/{id} – update a session's title or metadata
export const POST = handle(op.managedUpdateSession, async ({ params, body }) =>
  json(await updateManagedSession(params.id, body)),
);

// DELETE /v1/sessions/{id} – delete a session
export const DELETE = handle(op.managedDeleteSession, async ({ params }) =>
  json(await deleteManagedSession(params.id)),
);
