import { getUser } from "@/db/queries/users";
import { getWorkspace } from "@/db/queries/workspaces";
import type { Principal } from "@/lib/api/auth";
import type { AuthSession } from "@/lib/schemas/auth";

/** GET /auth/session's answer: who the caller is, where, with which role. */
export async function describeCaller(principal: Principal): Promise<AuthSession> {
  const [workspace, user] = await Promise.all([
    getWorkspace(principal.workspaceId),
    principal.actor.kind === "user" ? getUser(principal.actor.id) : null,
  ]);
  return {
    kind: principal.actor.kind === "key" ? "key" : principal.login ? "browser" : "master",
    expires_at: principal.expiresAt ? principal.expiresAt.toISOString() : null,
    user: user ? { id: user.id, email: user.email, name: user.name } : null,
    key:
      principal.actor.kind === "key"
        ? {
            id: principal.actor.id,
            name: principal.actor.label,
            agent_ids: principal.agentIds ? [...principal.agentIds] : null,
          }
        : null,
    workspace: { id: principal.workspaceId, name: workspace?.name ?? principal.workspaceId },
    role: principal.role,
  };
}
