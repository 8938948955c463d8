import { z } from "zod";

import {
  apiKeyListSchema,
  apiKeyParamsSchema,
  apiKeySchema,
  createApiKeySchema,
  createdApiKeySchema,
} from "@/lib/schemas/api-key";
import { auditPageSchema, auditQuerySchema } from "@/lib/schemas/audit";
import { authSessionSchema } from "@/lib/schemas/auth";
import {
  acceptInviteSchema,
  createdInviteSchema,
  createInviteSchema,
  inviteListSchema,
  inviteParamsSchema,
  invitePreviewSchema,
  inviteSchema,
  inviteTokenParamsSchema,
  memberListSchema,
  memberParamsSchema,
  memberSchema,
  updateMemberSchema,
} from "@/lib/schemas/member";
import {
  createWorkspaceSchema,
  switchWorkspaceSchema,
  workspaceListSchema,
  workspaceSchema,
} from "@/lib/schemas/workspace";

import { defineOperation } from "../operation";
import { err, invalid, missing } from "./responses";

const forbidden = err("The caller's role in this workspace does not allow it");

/** Teams: workspaces, members and invites, API keys, and the audit log. */
export const teamOperations = {
  listWorkspaces: defineOperation({
    id: "listWorkspaces",
    auth: "signed_in",
    method: "GET",
    path: "/api/v1/workspaces",
    tag: "Teams",
    summary: "The workspaces the caller can work in, with its role in each",
    description:
      "A user sees their memberships, an API key its own workspace, the master key every workspace.",
    responses: { 200: { description: "The workspaces", schema: workspaceListSchema } },
  }),
  createWorkspace: defineOperation({
    id: "createWorkspace",
    auth: "signed_in",
    audit: "workspace.create",
    method: "POST",
    path: "/api/v1/workspaces",
    tag: "Teams",
    summary: "Create a workspace (its creator is its first admin)",
    body: createWorkspaceSchema,
    responses: { 201: { description: "The workspace", schema: workspaceSchema }, 400: invalid },
  }),
  switchWorkspace: defineOperation({
    id: "switchWorkspace",
    auth: "signed_in",
    method: "POST",
    path: "/api/v1/auth/workspace",
    tag: "Auth",
    summary: "Make another workspace this browser login's current one",
    description:
      "For a login cookie. With the master key or an API key send the `Hangar-Workspace` header (master " +
      "key) or use the key's own workspace instead.",
    body: switchWorkspaceSchema,
    responses: {
      200: { description: "Who is calling, now in that workspace", schema: authSessionSchema },
      400: invalid,
      404: err("No such workspace, or the caller is not a member"),
    },
  }),
  listMembers: defineOperation({
    id: "listMembers",
    auth: "viewer",
    method: "GET",
    path: "/api/v1/members",
    tag: "Teams",
    summary: "The workspace's members and their roles",
    responses: { 200: { description: "The members", schema: memberListSchema } },
  }),
  updateMember: defineOperation({
    id: "updateMember",
    audit: "member.role_change",
    method: "PATCH",
    path: "/api/v1/members/{user_id}",
    tag: "Teams",
    summary: "Change a member's role (their open streams and terminals reconnect with it)",
    params: memberParamsSchema,
    body: updateMemberSchema,
    responses: {
      200: { description: "The member", schema: memberSchema },
      400: invalid,
      403: forbidden,
      404: missing,
      409: err("That would leave the workspace without an admin"),
    },
  }),
  removeMember: defineOperation({
    id: "removeMember",
    audit: "member.remove",
    method: "DELETE",
    path: "/api/v1/members/{user_id}",
    tag: "Teams",
    summary: "Remove a member: their open streams and terminals in this workspace close at once",
    params: memberParamsSchema,
    responses: {
      204: { description: "Removed" },
      403: forbidden,
      404: missing,
      409: err("That would leave the workspace without an admin"),
    },
  }),
  listInvites: defineOperation({
    id: "listInvites",
    method: "GET",
    path: "/api/v1/invites",
    tag: "Teams",
    summary: "Invites not yet used",
    responses: { 200: { description: "The open invites", schema: inviteListSchema }, 403: forbidden },
  }),
  createInvite: defineOperation({
    id: "createInvite",
    audit: "invite.create",
    method: "POST",
    path: "/api/v1/invites",
    tag: "Teams",
    summary: "Invite someone by email: a one-time link, shown once",
    description: "Hand the returned `url` to the invitee; only a hash of its token is kept.",
    body: createInviteSchema,
    responses: {
      201: { description: "The invite, with its link", schema: createdInviteSchema },
      400: invalid,
      403: forbidden,
      409: err("That person is already a member"),
    },
  }),
  revokeInvite: defineOperation({
    id: "revokeInvite",
    audit: "invite.revoke",
    method: "DELETE",
    path: "/api/v1/invites/{invite_id}",
    tag: "Teams",
    summary: "Revoke an unused invite",
    params: inviteParamsSchema,
    responses: { 200: { description: "The invite", schema: inviteSchema }, 403: forbidden, 404: missing },
  }),
  previewInvite: defineOperation({
    id: "previewInvite",
    auth: "none",
    secretPath: true,
    method: "GET",
    path: "/api/v1/invites/accept/{token}",
    tag: "Teams",
    summary: "What an invite link is for (no auth: the token is the credential)",
    params: inviteTokenParamsSchema,
    responses: { 200: { description: "The invite", schema: invitePreviewSchema }, 404: missing },
  }),
  acceptInvite: defineOperation({
    id: "acceptInvite",
    auth: "none",
    secretPath: true,
    method: "POST",
    path: "/api/v1/invites/accept/{token}",
    tag: "Teams",
    summary: "Accept an invite: create the account (or confirm an existing one) and log in",
    params: inviteTokenParamsSchema,
    body: acceptInviteSchema,
    responses: {
      200: { description: "Signed in; the cookie is set", schema: authSessionSchema },
      400: invalid,
      404: err("Unknown, used, revoked or expired link"),
    },
  }),
  listApiKeys: defineOperation({
    id: "listApiKeys",
    method: "GET",
    path: "/api/v1/api_keys",
    tag: "Teams",
    summary: "The workspace's API keys (never the keys themselves)",
    responses: { 200: { description: "The keys", schema: apiKeyListSchema }, 403: forbidden },
  }),
  createApiKey: defineOperation({
    id: "createApiKey",
    audit: "api_key.create",
    method: "POST",
    path: "/api/v1/api_keys",
    tag: "Teams",
    summary: "Create an API key: the `key` is in this answer only",
    description:
      "Send it as `Authorization: Bearer hgr_…` or `x-api-key: hgr_…`. Only a SHA-256 of it is stored. " +
      "`agent_ids` limits it to those agents and their sessions.",
    body: createApiKeySchema,
    responses: {
      201: { description: "The key, shown this once", schema: createdApiKeySchema },
      400: invalid,
      403: forbidden,
      404: err("An agent in `agent_ids` does not exist in this workspace"),
    },
  }),
  revokeApiKey: defineOperation({
    id: "revokeApiKey",
    audit: "api_key.revoke",
    method: "DELETE",
    path: "/api/v1/api_keys/{key_id}",
    tag: "Teams",
    summary: "Revoke an API key: it stops working at once, and its open streams and terminals close",
    params: apiKeyParamsSchema,
    responses: {
      200: { description: "The key, revoked", schema: apiKeySchema },
      403: forbidden,
      404: missing,
    },
  }),
  listAudit: defineOperation({
    id: "listAudit",
    method: "GET",
    path: "/api/v1/audit",
    tag: "Teams",
    summary: "The workspace's audit log, oldest first, in cursor pages",
    query: auditQuerySchema,
    responses: {
      200: { description: "A page of entries", schema: auditPageSchema },
      400: invalid,
      403: forbidden,
    },
  }),
  exportAudit: defineOperation({
    id: "exportAudit",
    method: "GET",
    path: "/api/v1/audit/export",
    tag: "Teams",
    summary: "The audit log as JSON lines (one entry per line), with the same filters",
    query: auditQuerySchema
      .omit({ limit: true })
      .extend({ limit: z.coerce.number().int().min(1).max(1_000_000).default(1_000_000) }),
    responses: {
      200: { description: "JSON lines", contentType: "application/x-ndjson" },
      400: invalid,
      403: forbidden,
    },
  }),
};
