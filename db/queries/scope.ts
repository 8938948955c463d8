import { eq } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { agents, environments, sessions, skills, vaults } from "@/db/schema";
import { processSlot } from "@/lib/process-slot";

/** The kinds of resource a route's `{id}` can name, each owned by one workspace. */
export type ScopedKind = "agent" | "session" | "skill" | "environment" | "vault";

/** What a caller can see: one workspace, and (for a key with an allow-list) only some agents. */
export type Reach = { workspaceId: string; agentIds: readonly string[] | null };

/** Where a resource lives: its workspace, and the agent it belongs to (an agent is its own). */
export type ResourceScope = { workspaceId: string; agentId: string | null };

/*
 * A session never changes workspace or agent, and every request about one (each message, each
 * stream reconnect) probes its scope first: the answer is remembered. Only existence can go stale:
 * a session deleted by another process still probes as there for up to SCOPE_TTL_MS here (its own
 * workspace's callers can still open a stream of it meanwhile); one deleted here, directly or
 * with its agent, is forgotten at once.
 */
const SCOPE_TTL_MS = 60_000;
const SCOPES_KEPT = 10_000;
const sessionScopes = processSlot(
  "session-scopes",
  () => new Map<string, { scope: ResourceScope; until: number }>(),
);

/** Called when a session row is deleted (null: some sessions, by cascade, whose ids are not known). */
export function forgetSessionScope(id: string | null) {
  if (id === null) sessionScopes.clear();
  else sessionScopes.delete(id);
}

/** One indexed probe by primary key (remembered for sessions); null when there is no such resource. */
export async function resourceScope(
  kind: ScopedKind,
  id: string,
  db: Db = getDb(),
): Promise<ResourceScope | null> {
  if (kind === "agent") {
    const [row] = await db.select({ workspaceId: agents.workspaceId }).from(agents).where(eq(agents.id, id));
    return row ? { workspaceId: row.workspaceId, agentId: id } : null;
  }
  if (kind === "session") {
    const known = db === getDb() ? sessionScopes.get(id) : undefined;
    if (known && known.until > Date.now()) return known.scope;
    const [row] = await db
      .select({ workspaceId: sessions.workspaceId, agentId: sessions.agentId })
      .from(sessions)
      .where(eq(sessions.id, id));
    if (row && db === getDb()) {
      if (sessionScopes.size >= SCOPES_KEPT) sessionScopes.clear();
      sessionScopes.set(id, { scope: row, until: Date.now() + SCOPE_TTL_MS });
    }
    return row ?? null;
  }
  const table = kind === "skill" ? skills : kind === "vault" ? vaults : environments;
  const [row] = await db.select({ workspaceId: table.workspaceId }).from(table).where(eq(table.id, id));
  return row ? { workspaceId: row.workspaceId, agentId: null } : null;
}
