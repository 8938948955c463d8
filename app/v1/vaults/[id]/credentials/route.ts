import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { createCredential, listCredentials } from "@/lib/managed/vaults";

// GET /v1/vaults/{id}/credentials – a vault's credentials (never their secrets)
export const GET = handle(op.managedListCredentials, async ({ params, query }) =>
  json(await listCredentials(params.id, query)),
);

// POST /v1/vaults/{id}/credentials – add a credential; its secret is write-only
export const POST = handle(op.managedCreateCredential, async ({ params, body, audit }) => {
  const credential = await createCredential(params.id, body);
  audit.resourceType = "vault_credential";
  audit.resourceId = credential.id;
  audit.detail = { vault_id: params.id, secret_name: credential.auth.secret_name };
  return json(credential);
});
