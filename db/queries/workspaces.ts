import { and, asc, eq } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { users, workspaceMembers, workspaces } from "@/db/schema";
import { DEFAULT_WORKSPACE_ID } from "@/db/schema/workspaces";
import { NotFoundError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import type { WorkspaceRole } from "@/lib/schemas/roles";

export { DEFAULT_WORKSPACE_ID };

export type WorkspaceRow = typeof workspaces.$inferSelect;

export async function getWorkspace(id: string, db: Db = getDb()): Promise<WorkspaceRow | null> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, id));
  return row ?? null;
}

export async function listAllWorkspaces(db: Db = getDb()): Promise<WorkspaceRow[]> {
  return db.select().from(workspaces).orderBy(asc(workspaces.createdAt), asc(workspaces.id));
}

export async function insertWorkspace(name: string, db: Db = getDb()): Promise<WorkspaceRow> {
  const [row] = await db
    .insert(workspaces)
    .values({ id: newId("workspace"), name })
    .returning();
  return row as WorkspaceRow;
}

/** The workspaces a user belongs to, with the user's role in each, oldest membership first. */
export async function listUserWorkspaces(userId: string, db: Db = getDb()) {
  return db
    .select({ workspace: workspaces, role: workspaceMembers.role })
    .from(workspaceMembers)
    .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
    .where(eq(workspaceMembers.userId, userId))
    .orderBy(asc(workspaceMembers.createdAt), asc(workspaces.id));
}

export async function getMembership(workspaceId: string, userId: string, db: Db = getDb()) {
  const [row] = await db
    .select({ role: workspaceMembers.role })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)));
  return row ?? null;
}

export async function listMembers(workspaceId: string, db: Db = getDb(), userId?: string) {
  return db
    .select({
      userId: users.id,
      email: users.email,
      name: users.name,
      role: workspaceMembers.role,
      joinedAt: workspaceMembers.createdAt,
    })
    .from(workspaceMembers)
    .innerJoin(users, eq(users.id, workspaceMembers.userId))
    .where(
      and(
        eq(workspaceMembers.workspaceId, workspaceId),
        userId ? eq(workspaceMembers.userId, userId) : undefined,
      ),
    )
    .orderBy(asc(workspaceMembers.createdAt), asc(users.id));
}

/** One member of the workspace, or null. */
export async function getMember(workspaceId: string, userId: string, db: Db = getDb()) {
  const [row] = await listMembers(workspaceId, db, userId);
  return row ?? null;
}

/** Adds the user, or changes the role of one who is already a member. */
export async function putMember(workspaceId: string, userId: string, role: WorkspaceRole, db: Db = getDb()) {
  await db
    .insert(workspaceMembers)
    .values({ workspaceId, userId, role })
    .onConflictDoUpdate({ target: [workspaceMembers.workspaceId, workspaceMembers.userId], set: { role } });
}

/** Changes a member's role; 404 when the user is not a member of this workspace. */
export async function setMemberRole(
  workspaceId: string,
  userId: string,
  role: WorkspaceRole,
  db: Db = getDb(),
) {
  const rows = await db
    .update(workspaceMembers)
    .set({ role })
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)))
    .returning({ userId: workspaceMembers.userId });
  if (rows.length === 0) throw new NotFoundError(`member ${userId} not found`);
}

export async function removeMember(workspaceId: string, userId: string, db: Db = getDb()) {
  const rows = await db
    .delete(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)))
    .returning({ userId: workspaceMembers.userId });
  if (rows.length === 0) throw new NotFoundError(`member ${userId} not found`);
}

export async function countAdmins(workspaceId: string, db: Db = getDb()): Promise<number> {
  const rows = await db
    .select({ userId: workspaceMembers.userId })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.role, "admin")));
  return rows.length;
}
