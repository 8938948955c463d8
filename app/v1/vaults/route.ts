import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { createVault, listVaults } from "@/lib/managed/vaults";

// GET /v1/vaults – list vaults
export const GET = handle(op.managedListVaults, async ({ query, principal }) =>
  json(await listVaults(query, principal.workspaceId)),
);

// POST /v1/vaults – create a vault
export const POST = handle(op.managedCreateVault, async ({ body, principal, audit }) => {
  const vault = await createVault(body, principal.workspaceId);
  audit.detail = { display_name: vault.display_name };
  return json(vault);
});
