import type { ApiKeyRow } from "@/db/queries/api-keys";
import type { AuditRow } from "@/db/queries/audit";
import type { InviteRow } from "@/db/queries/invites";
import { API_KEY_PREFIX, type ApiKey } from "@/lib/schemas/api-key";
import type { AuditEntry } from "@/lib/schemas/audit";
import type { Invite, Member } from "@/lib/schemas/member";
import type { WorkspaceRole } from "@/lib/schemas/roles";

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    agent_ids: row.agentIds,
    hint: `${API_KEY_PREFIX}…${row.tokenTail}`,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    expires_at: iso(row.expiresAt),
    last_used_at: iso(row.lastUsedAt),
    revoked_at: iso(row.revokedAt),
  };
}

export function toMember(row: {
  userId: string;
  email: string;
  name: string | null;
  role: WorkspaceRole;
  joinedAt: Date;
}): Member {
  return {
    user_id: row.userId,
    email: row.email,
    name: row.name,
    role: row.role,
    joined_at: iso(row.joinedAt)!,
  };
}

export function toInvite(row: InviteRow): Invite {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    expires_at: row.expiresAt.toISOString(),
    accepted_at: iso(row.acceptedAt),
    created_at: row.createdAt.toISOString(),
  };
}

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    at: row.at.toISOString(),
    actor: { kind: row.actorKind as AuditEntry["actor"]["kind"], id: row.actorId, label: row.actorLabel },
    action: row.action,
    resource: { type: row.resourceType, id: row.resourceId },
    detail: row.detail,
    request_id: row.requestId,
  };
}
