import { and, eq, isNotNull, isNull, or } from "drizzle-orm";

import { type Db } from "@/db";
import { getDb } from "@/db/client";
import { users } from "@/db/schema";
import { newId } from "@/lib/ids";

export type UserRow = typeof users.$inferSelect;

export async function getUser(id: string, db: Db = getDb()): Promise<UserRow | null> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row ?? null;
}

/** An enabled account by (lower-cased) email. */
export async function findUserByEmail(email: string, db: Db = getDb()): Promise<UserRow | null> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.email, email.toLowerCase()), isNull(users.disabledAt)));
  return row ?? null;
}

export async function findUserByOidc(issuer: string, subject: string, db: Db = getDb()) {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.oidcIssuer, issuer), eq(users.oidcSubject, subject), isNull(users.disabledAt)));
  return row ?? null;
}

/** A disabled account with this email or this OIDC link, if there is one. */
export async function findDisabledUser(
  email: string | null,
  oidc: { issuer: string; subject: string },
  db: Db = getDb(),
): Promise<UserRow | null> {
  const byOidc = and(eq(users.oidcIssuer, oidc.issuer), eq(users.oidcSubject, oidc.subject));
  const [row] = await db
    .select()
    .from(users)
    .where(
      and(isNotNull(users.disabledAt), email ? or(byOidc, eq(users.email, email.toLowerCase())) : byOidc),
    );
  return row ?? null;
}

export async function insertUser(
  input: {
    email: string;
    name: string | null;
    passwordHash: string | null;
    oidcIssuer?: string;
    oidcSubject?: string;
  },
  db: Db = getDb(),
): Promise<UserRow> {
  const [row] = await db
    .insert(users)
    .values({ id: newId("user"), ...input, email: input.email.toLowerCase() })
    .returning();
  return row as UserRow;
}

export async function linkOidc(userId: string, issuer: string, subject: string, db: Db = getDb()) {
  await db.update(users).set({ oidcIssuer: issuer, oidcSubject: subject }).where(eq(users.id, userId));
}
