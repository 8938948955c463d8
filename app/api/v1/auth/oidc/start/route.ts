import { handle } from "@/lib/api/handler";
import { startOidcSignIn } from "@/lib/api/oidc-sign-in";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/auth/oidc/start – redirect to the OIDC provider (state, nonce and PKCE in a signed cookie)
export const GET = handle(op.startOidc, async ({ req, query, requestId }) =>
  startOidcSignIn(req, query.next, requestId),
);
