import { appendAudit } from "@/db/queries/audit";
import type { Actor } from "@/lib/api/auth";
import { log } from "@/lib/log";

/*
 * One entry per action. What goes in `detail` is never a secret: agent and skill changes carry the
 * changed non-secret fields (before and after) and only the *names* of secret fields touched;
 * nothing records a key, a password, a token or an env var value.
 */

export type AuditInput = {
  workspaceId: string;
  actor: Actor | { kind: "anonymous"; id: null; label: string };
  action: string;
  resourceType?: string | null;
  resourceId?: string | null;
  detail?: Record<string, unknown>;
  requestId?: string | null;
};

/** Appends an entry; a failure to write it is logged loudly but does not undo the action. */
export async function recordAudit(entry: AuditInput): Promise<void> {
  try {
    await appendAudit({
      workspaceId: entry.workspaceId,
      actorKind: entry.actor.kind,
      actorId: entry.actor.id,
      actorLabel: entry.actor.label,
      action: entry.action,
      resourceType: entry.resourceType ?? null,
      resourceId: entry.resourceId ?? null,
      detail: entry.detail ?? {},
      requestId: entry.requestId ?? null,
    });
  } catch (err) {
    log.error("audit entry could not be written", { action: entry.action, err });
  }
}

type Comparable = Record<string, unknown>;

/**
 * The fields whose value changed, as `{field: {from, to}}`. Fields named in `secret` are compared too
 * but reported by name only, under `secrets_touched`.
 */
export function auditDiff(before: Comparable, after: Comparable, secret: readonly string[] = []) {
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (secret.includes(field)) continue;
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field]))
      changed[field] = { from: before[field] ?? null, to: after[field] ?? null };
  }
  return changed;
}
