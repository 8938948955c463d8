import { isMasterKey } from "@/lib/api/auth";
import { sessionCookieHeader, startBrowserSession } from "@/lib/api/browser-session";
import { ApiError } from "@/lib/api/errors";
import { handle, isHttps, json } from "@/lib/api/handler";
import { chargeFailedLogin, takeLoginAttempt } from "@/lib/api/login-limit";
import { operations as op } from "@/lib/api/operations";
import { clientAddress } from "@/lib/api/transport";

const FAILURE_DELAY_MS = 400;

// POST /api/v1/auth/login – trade the master key for an HttpOnly session cookie
export const POST = handle(op.login, async ({ req, body }) => {
  const client = clientAddress(req);
  // Counted before the key is looked at, so parallel guesses all count.
  const retryAfter = takeLoginAttempt(client);
  if (retryAfter !== null) {
    return json(
      {
        error: {
          code: "too_many_requests",
          message: `Too many login attempts from your address: try again in ${retryAfter} s`,
        },
      },
      429,
      { "retry-after": String(retryAfter) },
    );
  }
  if (!isMasterKey(body.master_key)) {
    chargeFailedLogin(client);
    await new Promise((r) => setTimeout(r, FAILURE_DELAY_MS));
    throw new ApiError("unauthorized", "That is not the master key");
  }
  const session = await startBrowserSession(req.headers.get("user-agent"));
  return json({ kind: "browser", expires_at: session.expiresAt.toISOString() }, 200, {
    "set-cookie": sessionCookieHeader(session.cookie, session.expiresAt, isHttps(req)),
  });
});
