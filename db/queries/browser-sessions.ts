import { and, eq, gt, isNull, lt } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { browserSessions } from "@/db/schema";
import { newId } from "@/lib/ids";

export async function createBrowserSession(
  input: { expiresAt: Date; userAgent: string | null },
  db: Db = getDb(),
) {
  const id = newId("browserSession");
  // Expired logins are dead weight; drop them whenever someone logs in.
  await db.delete(browserSessions).where(lt(browserSessions.expiresAt, new Date()));
  await db
    .insert(browserSessions)
    .values({ id, expiresAt: input.expiresAt, userAgent: input.userAgent?.slice(0, 300) });
  return { id, expiresAt: input.expiresAt };
}

/** True when the login exists, is not revoked and has not expired. */
export async function isBrowserSessionActive(id: string, db: Db = getDb()): Promise<boolean> {
  const [row] = await db
    .select({ id: browserSessions.id })
    .from(browserSessions)
    .where(
      and(
        eq(browserSessions.id, id),
        isNull(browserSessions.revokedAt),
        gt(browserSessions.expiresAt, new Date()),
      ),
    );
  return Boolean(row);
}

export async function revokeBrowserSession(id: string, db: Db = getDb()): Promise<void> {
  await db.update(browserSessions).set({ revokedAt: new Date() }).where(eq(browserSessions.id, id));
}
