import { z } from "zod";

/**
 * Roles of a workspace membership or an API key, weakest first. viewer reads (agents, sessions,
 * threads, terminals read-only); operator also starts and stops sessions, sends messages and types in
 * terminals; admin also changes agents, skills, secrets, members and keys.
 */
export const WORKSPACE_ROLES = ["viewer", "operator", "admin"] as const;

export const workspaceRoleSchema = z.enum(WORKSPACE_ROLES);

export type WorkspaceRole = z.infer<typeof workspaceRoleSchema>;

/** Whether `role` may do what `needed` allows. */
export function roleAllows(role: WorkspaceRole, needed: WorkspaceRole): boolean {
  return WORKSPACE_ROLES.indexOf(role) >= WORKSPACE_ROLES.indexOf(needed);
}
