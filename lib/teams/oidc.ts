import type { Tx } from "@/db";
import { transaction } from "@/db/client";
import { claimInvite, listOpenInvitesForEmail } from "@/db/queries/invites";
import {
  findDisabledUser,
  findUserByEmail,
  findUserByOidc,
  insertUser,
  linkOidc,
  type UserRow,
} from "@/db/queries/users";
import { listUserWorkspaces, putMember } from "@/db/queries/workspaces";

import { recordAudit } from "./audit";
import { OidcRefusal, type OidcIdentity } from "./oidc-provider";

/** The account a sign-in logs into, and the workspace to start in (the one just joined, if any). */
export type OidcAccount = {
  user: UserRow;
  workspaceId: string | undefined;
  matched: "subject" | "email" | "invite";
};

type Joined = { workspaceId: string; role: string; inviteId: string };

function verifiedEmail(identity: OidcIdentity): string {
  if (!identity.email) throw new OidcRefusal("no_email", "the ID token has no email claim");
  if (!identity.emailVerified)
    throw new OidcRefusal("unverified_email", "the ID token's email_verified is not true", identity.email);
  return identity.email;
}

/** Accepts the open invites addressed to `email` (one per workspace, the newest), as `userId`. */
async function claimInvites(email: string, userId: string, tx: Tx): Promise<Joined[]> {
  const joined: Joined[] = [];
  for (const invite of await listOpenInvitesForEmail(email, tx)) {
    if (joined.some((j) => j.workspaceId === invite.workspaceId)) continue;
    if (!(await claimInvite(invite.id, tx))) continue;
    await putMember(invite.workspaceId, userId, invite.role, tx);
    joined.push({ workspaceId: invite.workspaceId, role: invite.role, inviteId: invite.id });
  }
  return joined;
}

async function auditJoins(user: UserRow, joined: Joined[], requestId: string) {
  for (const join of joined) {
    await recordAudit({
      workspaceId: join.workspaceId,
      actor: { kind: "user", id: user.id, label: user.email },
      action: "member.join",
      resourceType: "member",
      resourceId: user.id,
      detail: { role: join.role, invite_id: join.inviteId, via: "oidc" },
      requestId,
    });
  }
}

/**
 * Invites for the account's own email are accepted at sign-in when the provider vouches for that
 * email: an account made by OIDC has no password, so it could not accept an invite link.
 */
async function joinInvited(user: UserRow, identity: OidcIdentity, requestId: string) {
  if (!identity.emailVerified || identity.email !== user.email) return undefined;
  const joined = await transaction((tx) => claimInvites(user.email, user.id, tx));
  await auditJoins(user, joined, requestId);
  return joined[0]?.workspaceId;
}

function isUniqueViolation(err: unknown): boolean {
  const code = (e: unknown) => (e as { code?: unknown } | null)?.code;
  return code(err) === "23505" || code((err as { cause?: unknown } | null)?.cause) === "23505";
}

async function resolve(identity: OidcIdentity, requestId: string): Promise<OidcAccount> {
  const linked = await findUserByOidc(identity.issuer, identity.subject);
  if (linked)
    return { user: linked, workspaceId: await joinInvited(linked, identity, requestId), matched: "subject" };

  const vouched = identity.emailVerified ? identity.email : null;
  if (await findDisabledUser(vouched, { issuer: identity.issuer, subject: identity.subject }))
    throw new OidcRefusal("disabled", "the matching account is disabled", identity.email);
  const email = verifiedEmail(identity);

  const byEmail = await findUserByEmail(email);
  if (byEmail) {
    // Same provider, another subject: someone else there now has this email. Not this account.
    if (
      byEmail.oidcIssuer === identity.issuer &&
      byEmail.oidcSubject &&
      byEmail.oidcSubject !== identity.subject
    )
      throw new OidcRefusal("linked_elsewhere", "the account is linked to another subject", email);
    await linkOidc(byEmail.id, identity.issuer, identity.subject);
    const [first] = await listUserWorkspaces(byEmail.id);
    if (first)
      await recordAudit({
        workspaceId: first.workspace.id,
        actor: { kind: "user", id: byEmail.id, label: byEmail.email },
        action: "user.link_oidc",
        resourceType: "user",
        resourceId: byEmail.id,
        detail: { issuer: identity.issuer },
        requestId,
      });
    return { user: byEmail, workspaceId: await joinInvited(byEmail, identity, requestId), matched: "email" };
  }

  const made = await transaction(async (tx) => {
    if ((await listOpenInvitesForEmail(email, tx)).length === 0) return null;
    const user = await insertUser(
      {
        email,
        name: identity.name,
        passwordHash: null,
        oidcIssuer: identity.issuer,
        oidcSubject: identity.subject,
      },
      tx,
    );
    const joined = await claimInvites(email, user.id, tx);
    // The invites were used or revoked meanwhile: roll the account back.
    if (joined.length === 0) throw new OidcRefusal("no_account", "the open invites were just used", email);
    return { user, joined };
  });
  if (!made) throw new OidcRefusal("no_account", "no account and no open invite for this email", email);
  await auditJoins(made.user, made.joined, requestId);
  return { user: made.user, workspaceId: made.joined[0]?.workspaceId, matched: "invite" };
}

/**
 * The Hangar account an OIDC sign-in is for, invite first: the user linked to this issuer and
 * subject; else the user with the email the provider verified (linked from then on); else, only when
 * an invite is open for that email, a new user without a password who joins by it. Otherwise refused.
 */
export async function accountForOidc(identity: OidcIdentity, requestId: string): Promise<OidcAccount> {
  let account: OidcAccount;
  try {
    account = await resolve(identity, requestId);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    // Two sign-ins of one person at once (two tabs): the second finds what the first made.
    account = await resolve(identity, requestId);
  }
  if ((await listUserWorkspaces(account.user.id)).length === 0)
    throw new OidcRefusal("no_workspace", "the account is a member of no workspace", account.user.email);
  return account;
}
