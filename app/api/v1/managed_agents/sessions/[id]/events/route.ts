import { handle } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { resumePoint, sseReply } from "@/lib/api/sse";
import { sessionFrames } from "@/lib/sessions/streams";

// GET /api/v1/managed_agents/sessions/{id}/events – the event log, replayed from the resume point, then live
export const GET = handle(op.sessionEvents, async ({ req, params, query }) => {
  // The wrapper already answered 404 for a session out of reach (op.resource): no second read.
  const after = resumePoint(req.headers.get("last-event-id"), query.after);
  return sseReply(sessionFrames(params.id, after, req.signal), req.signal);
});
