import { handle } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { sseReply } from "@/lib/api/sse";
import { messageText } from "@/lib/schemas/session-event";
import { startTurn } from "@/lib/sessions/messaging";
import { sessionFrames } from "@/lib/sessions/streams";
import { endsTurn } from "@/lib/thread";

// POST /api/v1/managed_agents/sessions/{id}/message_stream – send, then stream the turn as SSE
export const POST = handle(op.sendMessageStream, async ({ req, params, body }) => {
  const turn = await startTurn(params.id, messageText(body));
  return sseReply(
    sessionFrames(params.id, turn.fromSeq, req.signal, (e) => endsTurn(e, turn.turnId)),
    req.signal,
  );
});
