import { isMasterKey } from "@/lib/api/auth";
import { sessionCookieHeader } from "@/lib/api/browser-session";
import { ApiError } from "@/lib/api/errors";
import { handle, isHttps, json } from "@/lib/api/handler";
import { chargeFailedLogin, takeLoginAttempt } from "@/lib/api/login-limit";
import { operations as op } from "@/lib/api/operations";
import { clientAddress } from "@/lib/api/transport";
import { logIn, recordFailedLogin, startLogin } from "@/lib/teams/login";

const FAILURE_DELAY_MS = 400;

// POST /api/v1/auth/login – trade the master key, or a user's email and password, for a session cookie
export const POST = handle(op.login, async ({ req, body, requestId }) => {
  const client = clientAddress(req);
  // Counted before the credentials are looked at, so parallel guesses all count.
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
  const who =
    "master_key" in body ? (isMasterKey(body.master_key) ? { userId: null } : null) : await logIn(body);
  if (!who) {
    chargeFailedLogin(client);
    await recordFailedLogin("email" in body ? body.email : null, client, requestId);
    await new Promise((r) => setTimeout(r, FAILURE_DELAY_MS));
    throw new ApiError(
      "unauthorized",
      "master_key" in body ? "That is not the master key" : "Wrong email or password",
    );
  }
  const { session, caller } = await startLogin(req.headers.get("user-agent"), who.userId, requestId);
  return json(caller, 200, {
    "set-cookie": sessionCookieHeader(session.cookie, session.expiresAt, isHttps(req)),
  });
});
