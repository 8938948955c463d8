import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { toApiKey } from "@/lib/teams/present";
import { apiKeysOf, createApiKey } from "@/lib/teams/service";

// GET /api/v1/api_keys – the workspace's keys (never the keys themselves)
export const GET = handle(op.listApiKeys, async ({ principal }) =>
  json({ data: (await apiKeysOf(principal.workspaceId)).map(toApiKey) }),
);

// POST /api/v1/api_keys – create a key; the key is in this answer only
export const POST = handle(op.createApiKey, async ({ principal, body, audit }) => {
  const { row, key } = await createApiKey(principal, body);
  audit.resourceId = row.id;
  audit.detail = {
    name: row.name,
    role: row.role,
    agent_ids: row.agentIds,
    expires_at: row.expiresAt?.toISOString() ?? null,
  };
  return json({ ...toApiKey(row), key }, 201);
});
