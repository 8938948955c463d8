import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { archiveCredential } from "@/lib/managed/vaults";

// POST /v1/vaults/{id}/credentials/{credential_id}/archive – archive a credential
export const POST = handle(op.managedArchiveCredential, async ({ params }) =>
  json(await archiveCredential(params.id, params.credential_id)),
);
