import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { toApiKey } from "@/lib/teams/present";
import { revokeApiKey } from "@/lib/teams/service";

// DELETE /api/v1/api_keys/{key_id} – revoke a key; its open streams and terminals close at once
export const DELETE = handle(op.revokeApiKey, async ({ principal, params, audit }) => {
  const row = await revokeApiKey(principal, params.key_id);
  audit.resourceId = row.id;
  audit.detail = { name: row.name };
  return json(toApiKey(row));
});
