import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { archiveVault } from "@/lib/managed/vaults";

// POST /v1/vaults/{id}/archive – archive a vault
export const POST = handle(op.managedArchiveVault, async ({ params }) => json(await archiveVault(params.id)));
