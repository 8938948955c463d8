import { bumpTtyEpoch } from "@/db/queries/sessions";
import { ttyHolderOf } from "@/lib/api/access";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { closeTokenClients } from "@/lib/pty/terminals";
import { toApiSession } from "@/lib/sessions/present";

// POST /api/v1/managed_agents/sessions/{id}/tty_token/revoke – end every terminal token minted so far
export const POST = handle(op.revokeTtyToken, async ({ params, principal }) => {
  const row = await bumpTtyEpoch(params.id);
  closeTokenClients(params.id);
  return json(toApiSession(row, ttyHolderOf(principal)));
});
