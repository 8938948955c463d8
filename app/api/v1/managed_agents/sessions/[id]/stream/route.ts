import { handle } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { resumePoint, sseReply } from "@/lib/api/sse";
import { lastSeq } from "@/lib/sessions/events";
import { runningTurn } from "@/lib/sessions/messaging";
import { sessionFrames } from "@/lib/sessions/streams";
import { endsTurn } from "@/lib/thread";

// GET /api/v1/managed_agents/sessions/{id}/stream – the running turn, or everything with ?follow=1
export const GET = handle(op.sessionStream, async ({ req, params, query }) => {
  // The wrapper already answered 404 for a session out of reach (op.resource): no second read.
  const after = resumePoint(req.headers.get("last-event-id"), query.after);
  if (query.follow === "1" || query.follow === "true") {
    return sseReply(sessionFrames(params.id, after, req.signal), req.signal);
  }
  const turn = runningTurn(params.id);
  const end = await lastSeq(params.id);
  return sseReply(
    sessionFrames(params.id, after, req.signal, (e) => (turn ? endsTurn(e, turn.turnId) : e.seq >= end)),
    req.signal,
  );
});
