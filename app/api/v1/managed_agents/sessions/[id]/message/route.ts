import { ApiError } from "@/lib/api/errors";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { messageText } from "@/lib/schemas/session-event";
import { readTurn, startTurn } from "@/lib/sessions/messaging";

// POST /api/v1/managed_agents/sessions/{id}/message – one synchronous turn, answered with the reply
export const POST = handle(op.sendMessage, async ({ params, body }) => {
  const turn = await startTurn(params.id, messageText(body));
  await turn.done;
  const thread = await readTurn(params.id, turn.model, turn.fromSeq);
  const reply = thread.messages.find((m) => m.info.id === turn.messageId);
  if (!reply) throw new ApiError("internal_error", "the turn left no reply in the log");
  if (reply.info.error) throw new ApiError("bad_gateway", reply.info.error.message);
  return json(reply);
});
