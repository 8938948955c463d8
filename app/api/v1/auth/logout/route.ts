import { revokeBrowserSession } from "@/db/queries/browser-sessions";
import { clearSessionCookieHeaders } from "@/lib/api/browser-session";
import { handle, isHttps, noContent } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// POST /api/v1/auth/logout – revoke this browser session and clear its cookie (both names)
export const POST = handle(op.logout, async ({ req, principal }) => {
  if (principal?.kind === "browser") await revokeBrowserSession(principal.sessionId);
  return noContent({ "set-cookie": clearSessionCookieHeaders(isHttps(req)) });
});
