import { and, eq, gt, isNull, lt } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { browserSessions } from "@/db/schema";
import { newId } from "@/lib/ids";

export type BrowserSessionRow = typeof browserSessions.$inferSelect;

export async function createBrowserSession(
  input: { expiresAt: Date; userAgent: string | null; userId?: string | null; workspaceId?: string | null },
  db: Db = getDb(),
) {
  const id = newId("browserSession");
  // Expired logins are dead weight; drop them whenever someone logs in.
  await db.delete(browserSessions).where(lt(browserSessions.expiresAt, new Date()));
  await db.insert(browserSessions).values({
    id,
    expiresAt: input.expiresAt,
    userAgent: input.userAgent?.slice(0, 300),
    userId: input.userId ?? null,
    workspaceId: input.workspaceId ?? null,
  });
  return { id, expiresAt: input.expiresAt };
}

/** The login when it exists, is not revoked and has not expired; else null. */
export async function getActiveBrowserSession(
  id: string,
  db: Db = getDb(),
): Promise<BrowserSessionRow | null> {
  const [row] = await db
    .select()
    .from(browserSessions)
    .where(
      and(
        eq(browserSessions.id, id),
        isNull(browserSessions.revokedAt),
        gt(browserSessions.expiresAt, new Date()),
      ),
    );
  return row ?? null;
}

export async function isBrowserSessionActive(id: string, db: Db = getDb()): Promise<boolean> {
  return (await getActiveBrowserSession(id, db)) !== null;
}

export async function revokeBrowserSession(id: string, db: Db = getDb()): Promise<void> {
  await db.update(browserSessions).set({ revokedAt: new Date() }).where(eq(browserSessions.id, id));
}

/** Ends every login of a user (removed from the last workspace, or disabled). Returns their ids. */
export async function revokeUserBrowserSessions(userId: string, db: Db = getDb()): Promise<string[]> {
  const rows = await db
    .update(browserSessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(browserSessions.userId, userId), isNull(browserSessions.revokedAt)))
    .returning({ id: browserSessions.id });
  return rows.map((row) => row.id);
}

export async function setBrowserSessionWorkspace(id: string, workspaceId: string, db: Db = getDb()) {
  await db.update(browserSessions).set({ workspaceId }).where(eq(browserSessions.id, id));
}
