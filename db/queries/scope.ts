import { eq } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { agents, environments, sessions, skills, vaults } from "@/db/schema";

/** The kinds of resource a route's `{id}` can name, each owned by one workspace. */
export type ScopedKind = "agent" | "session" | "skill" | "environment" | "vault";

/** What a caller can see: one workspace, and (for a key with an allow-list) only some agents. */
export type Reach = { workspaceId: string; agentIds: readonly string[] | null };

/** Where a resource lives: its workspace, and the agent it belongs to (an agent is its own). */
export type ResourceScope = { workspaceId: string; agentId: string | null };

/** One indexed probe by primary key; null when there is no such resource at all. */
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
    const [row] = await db
      .select({ workspaceId: sessions.workspaceId, agentId: sessions.agentId })
      .from(sessions)
      .where(eq(sessions.id, id));
    return row ?? null;
  }
  const table = kind === "skill" ? skills : kind === "vault" ? vaults : environments;
  const [row] = await db.select({ workspaceId: table.workspaceId }).from(table).where(eq(table.id, id));
  return row ? { workspaceId: row.workspaceId, agentId: null } : null;
}
