import { handle } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { sseReply } from "@/lib/api/sse";
import { openEventStream } from "@/lib/managed/session-events";

// GET /v1/sessions/{id}/events/stream – the session's events as they happen (SSE)
export const GET = handle(op.managedStreamEvents, async ({ req, params, query }) => {
  const frames = await openEventStream(params.id, req.headers.get("last-event-id"), query.after, req.signal);
  return sseReply(frames, req.signal);
});
