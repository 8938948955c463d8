import { getActiveBrowserSession } from "@/db/queries/browser-sessions";
import { findUserByEmail } from "@/db/queries/users";
import { DEFAULT_WORKSPACE_ID, listUserWorkspaces } from "@/db/queries/workspaces";
import { principalOfLogin } from "@/lib/api/auth";
import { startBrowserSession } from "@/lib/api/browser-session";
import type { AuthSession, PasswordLoginInput } from "@/lib/schemas/auth";

import { recordAudit } from "./audit";
import { describeCaller } from "./caller";
import { checkPassword } from "./service";

/** The user these credentials belong to, or null. */
export async function logIn(input: PasswordLoginInput): Promise<{ userId: string } | null> {
  const user = await checkPassword(input.email, input.password);
  return user ? { userId: user.id } : null;
}

/**
 * A failed login, in the audit log of the account's first workspace (or the default one). `extra`:
 * who to name when there is no email (a master key attempt when unsaid) and what else to record.
 */
export async function recordFailedLogin(
  email: string | null,
  client: string,
  requestId: string,
  extra: { label?: string; detail?: Record<string, unknown> } = {},
) {
  const user = email ? await findUserByEmail(email) : null;
  const [first] = user ? await listUserWorkspaces(user.id) : [];
  await recordAudit({
    workspaceId: first?.workspace.id ?? DEFAULT_WORKSPACE_ID,
    actor: { kind: "anonymous", id: null, label: email ?? extra.label ?? "master key attempt" },
    action: "auth.login_failed",
    detail: { client, ...extra.detail },
    requestId,
  });
}

/**
 * A new browser login for a user (or, with `userId` null, the master key's holder), in `workspaceId`
 * or the user's first workspace; audited as `auth.login`.
 */
export async function startLogin(
  userAgent: string | null,
  userId: string | null,
  requestId: string,
  workspaceId?: string,
): Promise<{ session: Awaited<ReturnType<typeof startBrowserSession>>; caller: AuthSession }> {
  const [first] = userId && !workspaceId ? await listUserWorkspaces(userId) : [];
  const session = await startBrowserSession(userAgent, {
    userId,
    workspaceId: workspaceId ?? first?.workspace.id ?? DEFAULT_WORKSPACE_ID,
  });
  const row = await getActiveBrowserSession(session.id);
  if (!row) throw new Error("a login just made is not readable");
  const principal = await principalOfLogin(row);
  await recordAudit({
    workspaceId: principal.workspaceId,
    actor: principal.actor,
    action: "auth.login",
    resourceType: userId ? "user" : null,
    resourceId: userId,
    requestId,
  });
  return { session, caller: await describeCaller(principal) };
}
