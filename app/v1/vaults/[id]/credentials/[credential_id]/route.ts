import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { deleteCredential, getCredential, updateCredential } from "@/lib/managed/vaults";

// GET /v1/vaults/{id}/credentials/{credential_id} – a credential (never its secret)
export const GET = handle(op.managedGetCredential, async ({ params }) =>
  json(await getCredential(params.id, params.credential_id)),
);

// POST /v1/vaults/{id}/credentials/{credential_id} – update a credential
export const POST = handle(op.managedUpdateCredential, async ({ params, body, audit }) => {
  audit.resourceType = "vault_credential";
  audit.resourceId = params.credential_id;
  audit.detail = {
    vault_id: params.id,
    secret_replaced: Boolean(body.auth && "secret_value" in body.auth && body.auth.secret_value),
  };
  return json(await updateCredential(params.id, params.credential_id, body));
});

// DELETE /v1/vaults/{id}/credentials/{credential_id} – delete a credential
export const DELETE = handle(op.managedDeleteCredential, async ({ params, audit }) => {
  audit.resourceType = "vault_credential";
  audit.resourceId = params.credential_id;
  return json(await deleteCredential(params.id, params.credential_id));
});
