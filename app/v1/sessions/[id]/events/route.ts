import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { listEvents, sendEvents } from "@/lib/managed/session-events";

// GET /v1/sessions/{id}/events – a page of the session's events
export const GET = handle(op.managedListEvents, async ({ params, query }) =>
  json(await listEvents(params.id, query)),
);

// POST /v1/sessions/{id}/events – send user events
export const POST = handle(op.managedSendEvents, async ({ params, body }) =>
  json(await sendEvents(params.id, body)),
);
