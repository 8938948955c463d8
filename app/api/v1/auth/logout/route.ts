import { revokeBrowserSession } from "@/db/queries/browser-sessions";
import { clearSessionCookieHeaders } from "@/lib/api/browser-session";
import { handle, isHttps, noContent } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { revokeCredentials } from "@/lib/teams/revocation";

// POST /api/v1/auth/logout – revoke this browser session and clear its cookie (both names)
export const POST = handle(op.logout, async ({ req, principal, audit }) => {
  if (principal.login) {
    await revokeBrowserSession(principal.login.id);
    // Streams and terminals this login opened close with it.
    await revokeCredentials(`login:${principal.login.id}`);
  } else audit.skip = true;
  return noContent({ "set-cookie": clearSessionCookieHeaders(isHttps(req)) });
});
