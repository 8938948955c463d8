import { handle } from "@/lib/api/handler";
import { finishOidcSignIn } from "@/lib/api/oidc-sign-in";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/auth/oidc/callback – the provider's answer: verify it, find the account, log in
export const GET = handle(op.finishOidc, async ({ req, requestId }) => finishOidcSignIn(req, requestId));
