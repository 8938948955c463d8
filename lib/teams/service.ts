import { transaction } from "@/db/client";
import {
  insertApiKey,
  listApiKeys,
  revokeApiKey as revokeKeyRow,
  type ApiKeyRow,
} from "@/db/queries/api-keys";
import { revokeUserBrowserSessions } from "@/db/queries/browser-sessions";
import {
  claimInvite,
  findOpenInvite,
  insertInvite,
  listOpenInvites,
  revokeInvite,
} from "@/db/queries/invites";
import { resourceScope } from "@/db/queries/scope";
import { findUserByEmail, insertUser } from "@/db/queries/users";
import {
  countAdmins,
  getMember,
  getMembership,
  getWorkspace,
  insertWorkspace,
  listAllWorkspaces,
  listMembers,
  listUserWorkspaces,
  putMember,
  removeMember as removeMemberRow,
  setMemberRole,
} from "@/db/queries/workspaces";
import type { Principal } from "@/lib/api/auth";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "@/lib/errors";
import type { CreateApiKeyInput } from "@/lib/schemas/api-key";
import type { AcceptInviteInput, CreateInviteInput } from "@/lib/schemas/member";
import type { WorkspaceRole } from "@/lib/schemas/roles";
import type { Workspace } from "@/lib/schemas/workspace";

import { burnPasswordCheck, hashPassword, verifyPassword } from "./password";
import { revokeCredentials } from "./revocation";
import { newApiKey, newInviteToken, sha256 } from "./tokens";

/** How the audit log and key rows name who made something. */
export function actorName(principal: Principal): string {
  return principal.actor.kind === "master" ? "master key" : principal.actor.label;
}

// ---- workspaces ----

/** The workspaces the caller can switch to, with its role in each. */
export async function workspacesOf(principal: Principal): Promise<Workspace[]> {
  const shape = (w: { id: string; name: string; createdAt: Date }, role: WorkspaceRole): Workspace => ({
    id: w.id,
    name: w.name,
    role,
    created_at: w.createdAt.toISOString(),
  });
  if (principal.actor.kind === "master") return (await listAllWorkspaces()).map((w) => shape(w, "admin"));
  if (principal.actor.kind === "user")
    return (await listUserWorkspaces(principal.actor.id)).map((m) => shape(m.workspace, m.role));
  const own = await getWorkspace(principal.workspaceId);
  return own ? [shape(own, principal.role)] : [];
}

/** A new workspace; a user who makes one is its first admin. API keys cannot make workspaces. */
export async function createWorkspace(principal: Principal, name: string): Promise<Workspace> {
  if (principal.actor.kind === "key")
    throw new ForbiddenError("An API key belongs to one workspace and cannot create others");
  const row = await insertWorkspace(name);
  if (principal.actor.kind === "user") await putMember(row.id, principal.actor.id, "admin");
  return { id: row.id, name: row.name, role: "admin", created_at: row.createdAt.toISOString() };
}

/** 404 unless the caller may work in `workspaceId` (the master key may work in any). */
export async function assertMayEnter(principal: Principal, workspaceId: string): Promise<void> {
  const exists = await getWorkspace(workspaceId);
  const member =
    principal.actor.kind === "master" ||
    (principal.actor.kind === "user" && (await getMembership(workspaceId, principal.actor.id)) !== null);
  if (!exists || !member) throw new NotFoundError(`workspace ${workspaceId} not found`);
}

// ---- members ----

export async function membersOf(workspaceId: string) {
  return listMembers(workspaceId);
}

export const memberOf = getMember;

async function assertNotLastAdmin(workspaceId: string, userId: string) {
  const membership = await getMembership(workspaceId, userId);
  if (!membership) throw new NotFoundError(`member ${userId} not found`);
  if (membership.role === "admin" && (await countAdmins(workspaceId)) <= 1)
    throw new ConflictError("This is the workspace's last admin: make another member admin first");
}

/** Changes a member's role; their open streams and terminals close, so they reconnect with the new one. */
export async function changeRole(principal: Principal, userId: string, role: WorkspaceRole) {
  if (role !== "admin") await assertNotLastAdmin(principal.workspaceId, userId);
  await setMemberRole(principal.workspaceId, userId, role);
  await revokeCredentials(`member:${principal.workspaceId}:${userId}`);
}

/** Removes a member: at once, everywhere (open streams and terminals close, logins end if it was the last workspace). */
export async function removeMember(principal: Principal, userId: string) {
  await assertNotLastAdmin(principal.workspaceId, userId);
  await removeMemberRow(principal.workspaceId, userId);
  const credentials = [`member:${principal.workspaceId}:${userId}`];
  if ((await listUserWorkspaces(userId)).length === 0) {
    for (const login of await revokeUserBrowserSessions(userId)) credentials.push(`login:${login}`);
  }
  await revokeCredentials(...credentials);
}

// ---- invites ----

export async function createInvite(
  principal: Principal,
  input: CreateInviteInput & { role: WorkspaceRole; expires_in_hours: number },
) {
  const existing = await findUserByEmail(input.email);
  if (existing && (await getMembership(principal.workspaceId, existing.id)))
    throw new ConflictError(`${input.email} is already a member of this workspace`);
  const { token, hash } = newInviteToken();
  const row = await insertInvite({
    workspaceId: principal.workspaceId,
    email: input.email,
    role: input.role,
    tokenHash: hash,
    createdBy: actorName(principal),
    expiresAt: new Date(Date.now() + input.expires_in_hours * 3600_000),
  });
  return { row, token };
}

export const openInvites = listOpenInvites;
export const cancelInvite = revokeInvite;

async function openInvite(token: string) {
  const found = await findOpenInvite(sha256(token));
  if (!found)
    throw new NotFoundError("This invite link is unknown, used, revoked or expired: ask for a new one");
  return found;
}

export async function previewInvite(token: string) {
  const { invite, workspaceName } = await openInvite(token);
  return {
    email: invite.email,
    workspace_name: workspaceName,
    role: invite.role,
    existing_user: (await findUserByEmail(invite.email)) !== null,
  };
}

/**
 * Uses an invite once: a new account with this password, or, for an email that has one, that
 * account after its password is checked. Returns the member, in the invite's workspace.
 */
export async function acceptInvite(token: string, input: AcceptInviteInput) {
  const { invite } = await openInvite(token);
  const existing = await findUserByEmail(invite.email);
  if (existing && !(existing.passwordHash && (await verifyPassword(input.password, existing.passwordHash))))
    throw new ValidationError("That is not the password of this account", [
      { path: ["password"], message: "not this account's password" },
    ]);
  const passwordHash = existing ? null : await hashPassword(input.password);
  return transaction(async (tx) => {
    if (!(await claimInvite(invite.id, tx))) throw new NotFoundError("This invite link was just used");
    const user =
      existing ??
      (await insertUser({ email: invite.email, name: input.name?.trim() || null, passwordHash }, tx));
    await putMember(invite.workspaceId, user.id, invite.role, tx);
    return { user, workspaceId: invite.workspaceId, role: invite.role, inviteId: invite.id };
  });
}

// ---- password login ----

/** The user whose email and password these are, or null; as slow for an unknown email as a wrong password. */
export async function checkPassword(email: string, password: string) {
  const user = await findUserByEmail(email);
  if (!user?.passwordHash) {
    await burnPasswordCheck(password);
    return null;
  }
  return (await verifyPassword(password, user.passwordHash)) ? user : null;
}

// ---- API keys ----

export async function createApiKey(
  principal: Principal,
  input: CreateApiKeyInput,
): Promise<{ row: ApiKeyRow; key: string }> {
  const agentIds = input.agent_ids ?? null;
  if (agentIds) {
    for (const id of agentIds) {
      const scope = await resourceScope("agent", id);
      if (!scope || scope.workspaceId !== principal.workspaceId)
        throw new NotFoundError(`agent ${id} not found`);
    }
  }
  // A key cannot make a key that reaches further than itself.
  if (principal.agentIds && (!agentIds || agentIds.some((id) => !principal.agentIds!.includes(id))))
    throw new ValidationError("A key limited to some agents can only create keys limited to those agents", [
      { path: ["agent_ids"], message: "must be a subset of this key's agents" },
    ]);
  const { key, hash, tail } = newApiKey();
  const row = await insertApiKey({
    workspaceId: principal.workspaceId,
    name: input.name,
    role: input.role,
    agentIds: agentIds ? [...new Set(agentIds)] : null,
    tokenHash: hash,
    tokenTail: tail,
    createdBy: actorName(principal),
    expiresAt: input.expires_in_days ? new Date(Date.now() + input.expires_in_days * 86_400_000) : null,
  });
  return { row, key };
}

export const apiKeysOf = listApiKeys;

/** Revokes a key: new requests fail at once, and its open streams and terminals close (every replica). */
export async function revokeApiKey(principal: Principal, id: string): Promise<ApiKeyRow> {
  const row = await revokeKeyRow(principal.workspaceId, id);
  await revokeCredentials(`key:${id}`);
  return row;
}
