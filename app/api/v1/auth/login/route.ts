import { isMasterKey } from "@/lib/api/auth";
import { sessionCookieHeader, startBrowserSession } from "@/lib/api/browser-session";
import { ApiError } from "@/lib/api/errors";
import { handle, isHttps, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

const FAILURE_DELAY_MS = 400;

// POST /api/v1/auth/login – trade the master key for an HttpOnly session cookie
export const POST = handle(op.login, async ({ req, body }) => {
  if (!isMasterKey(body.master_key)) {
    await new Promise((r) => setTimeout(r, FAILURE_DELAY_MS));
    throw new ApiError("unauthorized", "That is not the master key");
  }
  const session = await startBrowserSession(req.headers.get("user-agent"));
  return json({ kind: "browser", expires_at: session.expiresAt.toISOString() }, 200, {
    "set-cookie": sessionCookieHeader(session.cookie, session.expiresAt, isHttps(req)),
  });
});
