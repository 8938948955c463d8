import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { deleteVault, getVault, updateVault } from "@/lib/managed/vaults";

// GET /v1/vaults/{id} – a vault
export const GET = handle(op.managedGetVault, async ({ params }) => json(await getVault(params.id)));

// POST /v1/vaults/{id} – update a vault
export const POST = handle(op.managedUpdateVault, async ({ params, body }) =>
  json(await updateVault(params.id, body)),
);

// DELETE /v1/vaults/{id} – delete a vault and its credentials
export const DELETE = handle(op.managedDeleteVault, async ({ params }) => json(await deleteVault(params.id)));
