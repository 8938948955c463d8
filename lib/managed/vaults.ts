import {
  deleteCredentialRow,
  deleteVaultRow,
  getCredentialRow,
  getVaultRow,
  getVaultsIn,
  insertCredential,
  insertVault,
  listCredentialRows,
  listVaultRows,
  liveCredentialsOf,
  updateCredentialRow,
  updateVaultRow,
  type CredentialRow,
  type VaultRow,
} from "@/db/queries/vaults";
import { ValidationError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { runtime } from "@/lib/runtime";
import { mergeMetadata, type CursorQuery } from "@/lib/schemas/managed-common";
import type {
  CreateCredentialInput,
  CreateVaultInput,
  Credential,
  CredentialAuth,
  UpdateCredentialInput,
  UpdateVaultInput,
  Vault,
} from "@/lib/schemas/vault";

/*
 * /v1/vaults and their credentials. A secret is sealed (AES-256-GCM, bound to its credential) the
 * moment it arrives and is never answered or logged. A session given vaults gets their
 * environment_variable credentials in its sandbox environment, sealed again for the session (so a
 * restart has them) like the agent's own env vars; later edits to the vault do not reach it.
 */

const secretContext = (credentialId: string) => `credential:${credentialId}:secret`;

export function presentVault(row: VaultRow): Vault {
  return {
    id: row.id,
    type: "vault",
    display_name: row.displayName,
    metadata: row.metadata,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    archived_at: row.archivedAt ? row.archivedAt.toISOString() : null,
  };
}

export function presentCredential(row: CredentialRow): Credential {
  return {
    id: row.id,
    type: "vault_credential",
    vault_id: row.vaultId,
    display_name: row.displayName,
    auth: row.auth,
    metadata: row.metadata,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    archived_at: row.archivedAt ? row.archivedAt.toISOString() : null,
  };
}

export async function createVault(input: CreateVaultInput, workspaceId: string) {
  const row = await insertVault({
    id: newId("vault"),
    workspaceId,
    displayName: input.display_name,
    metadata: input.metadata ?? {},
  });
  return presentVault(row);
}

export async function getVault(id: string) {
  return presentVault(await getVaultRow(id));
}

export async function updateVault(id: string, input: UpdateVaultInput) {
  const row = await getVaultRow(id);
  return presentVault(
    await updateVaultRow(id, {
      ...(input.display_name ? { displayName: input.display_name } : {}),
      ...(input.metadata !== undefined ? { metadata: mergeMetadata(row.metadata, input.metadata) } : {}),
    }),
  );
}

export async function archiveVault(id: string) {
  const row = await getVaultRow(id);
  return presentVault(row.archivedAt ? row : await updateVaultRow(id, { archivedAt: new Date() }));
}

export async function deleteVault(id: string) {
  await deleteVaultRow(id);
  return { id, type: "vault_deleted" as const };
}

export async function listVaults(query: CursorQuery, workspaceId: string) {
  const page = await listVaultRows(query, workspaceId);
  return { data: page.data.map(presentVault), next_page: page.next_page };
}

export async function createCredential(vaultId: string, input: CreateCredentialInput) {
  const vault = await getVaultRow(vaultId);
  if (vault.archivedAt) throw new ValidationError(`vault ${vaultId} is archived`, []);
  const auth = input.auth;
  if (auth.type !== "environment_variable")
    throw new ValidationError(`${auth.type} credentials are not supported`, []);
  const id = newId("credential");
  const stored: CredentialAuth = {
    type: "environment_variable",
    secret_name: auth.secret_name,
    networking: { type: "unrestricted" },
    injection_location: {
      body: auth.injection_location?.body ?? false,
      header: auth.injection_location?.header ?? false,
    },
  };
  const row = await insertCredential({
    id,
    vaultId,
    displayName: input.display_name ?? null,
    auth: stored,
    secret: runtime().box.encrypt(auth.secret_value, secretContext(id)),
    metadata: input.metadata ?? {},
  });
  return presentCredential(row);
}

export async function getCredential(vaultId: string, id: string) {
  return presentCredential(await getCredentialRow(vaultId, id));
}

export async function updateCredential(vaultId: string, id: string, input: UpdateCredentialInput) {
  const row = await getCredentialRow(vaultId, id);
  const auth = input.auth;
  if (auth && auth.type !== "environment_variable")
    throw new ValidationError(`${auth.type} credentials are not supported`, []);
  const value = auth && "secret_value" in auth ? auth.secret_value : null;
  const location = auth && "injection_location" in auth ? auth.injection_location : undefined;
  return presentCredential(
    await updateCredentialRow(vaultId, id, {
      ...(input.display_name !== undefined ? { displayName: input.display_name } : {}),
      ...(input.metadata !== undefined ? { metadata: mergeMetadata(row.metadata, input.metadata) } : {}),
      ...(value ? { secret: runtime().box.encrypt(value, secretContext(id)) } : {}),
      ...(location
        ? {
            auth: {
              ...row.auth,
              injection_location: {
                body: location.body ?? row.auth.injection_location.body,
                header: location.header ?? row.auth.injection_location.header,
              },
            },
          }
        : {}),
    }),
  );
}

export async function archiveCredential(vaultId: string, id: string) {
  const row = await getCredentialRow(vaultId, id);
  return presentCredential(
    row.archivedAt ? row : await updateCredentialRow(vaultId, id, { archivedAt: new Date() }),
  );
}

export async function deleteCredential(vaultId: string, id: string) {
  await deleteCredentialRow(vaultId, id);
  return { id, type: "vault_credential_deleted" as const };
}

export async function listCredentials(vaultId: string, query: CursorQuery) {
  await getVaultRow(vaultId);
  const page = await listCredentialRows(vaultId, query);
  return { data: page.data.map(presentCredential), next_page: page.next_page };
}

/**
 * The environment a session given `vaultIds` gets: each live credential's name and plaintext value.
 * Every vault must be in the workspace (another workspace's is as unknown as a made-up id) and live.
 */
export async function vaultEnvironment(
  vaultIds: string[],
  workspaceId: string,
): Promise<Record<string, string>> {
  const unique = [...new Set(vaultIds)];
  const found = await getVaultsIn(unique, workspaceId);
  for (const id of unique) {
    const vault = found.find((v) => v.id === id);
    if (!vault)
      throw new ValidationError(`vault_ids: vault ${id} not found`, [
        { path: ["vault_ids"], message: `no vault ${id}` },
      ]);
    if (vault.archivedAt)
      throw new ValidationError(`vault_ids: vault ${id} is archived`, [
        { path: ["vault_ids"], message: "archived" },
      ]);
  }
  const env: Record<string, string> = {};
  for (const credential of await liveCredentialsOf(unique)) {
    env[credential.auth.secret_name] = runtime().box.decrypt(credential.secret, secretContext(credential.id));
  }
  return env;
}
