import { and, desc, eq, gt, isNull } from "drizzle-orm";

import { type Db, type Tx } from "@/db";
import { getDb } from "@/db/client";
import { invites, workspaces } from "@/db/schema";
import { NotFoundError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import type { WorkspaceRole } from "@/lib/schemas/roles";

export type InviteRow = typeof invites.$inferSelect;

export async function insertInvite(
  input: {
    workspaceId: string;
    email: string;
    role: WorkspaceRole;
    tokenHash: string;
    createdBy: string;
    expiresAt: Date;
  },
  db: Db = getDb(),
): Promise<InviteRow> {
  const [row] = await db
    .insert(invites)
    .values({ id: newId("invite"), ...input })
    .returning();
  return row as InviteRow;
}

/** Invites of the workspace not yet accepted or revoked, newest first. */
export async function listOpenInvites(workspaceId: string, db: Db = getDb()): Promise<InviteRow[]> {
  return db
    .select()
    .from(invites)
    .where(and(eq(invites.workspaceId, workspaceId), isNull(invites.acceptedAt), isNull(invites.revokedAt)))
    .orderBy(desc(invites.createdAt));
}

export async function revokeInvite(workspaceId: string, id: string, db: Db = getDb()): Promise<InviteRow> {
  const [row] = await db
    .update(invites)
    .set({ revokedAt: new Date() })
    .where(and(eq(invites.workspaceId, workspaceId), eq(invites.id, id), isNull(invites.acceptedAt)))
    .returning();
  if (!row) throw new NotFoundError(`invite ${id} not found`);
  return row;
}

/** A usable invite by its token's hash (not accepted, not revoked, not expired), with its workspace. */
export async function findOpenInvite(tokenHash: string, db: Db | Tx = getDb()) {
  const [row] = await db
    .select({ invite: invites, workspaceName: workspaces.name })
    .from(invites)
    .innerJoin(workspaces, eq(workspaces.id, invites.workspaceId))
    .where(
      and(
        eq(invites.tokenHash, tokenHash),
        isNull(invites.acceptedAt),
        isNull(invites.revokedAt),
        gt(invites.expiresAt, new Date()),
      ),
    );
  return row ?? null;
}

/** Marks the invite used; false when another request used it first. */
export async function claimInvite(id: string, tx: Tx): Promise<boolean> {
  const rows = await tx
    .update(invites)
    .set({ acceptedAt: new Date() })
    .where(and(eq(invites.id, id), isNull(invites.acceptedAt), isNull(invites.revokedAt)))
    .returning({ id: invites.id });
  return rows.length === 1;
}

/** Usable invites addressed to this (lower-cased) email, in any workspace, newest first. */
export async function listOpenInvitesForEmail(email: string, db: Db | Tx = getDb()): Promise<InviteRow[]> {
  return db
    .select()
    .from(invites)
    .where(
      and(
        eq(invites.email, email.toLowerCase()),
        isNull(invites.acceptedAt),
        isNull(invites.revokedAt),
        gt(invites.expiresAt, new Date()),
      ),
    )
    .orderBy(desc(invites.createdAt));
}
