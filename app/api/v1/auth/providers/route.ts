import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { configuredOidc } from "@/lib/teams/oidc-provider";

// GET /api/v1/auth/providers – which sign-in buttons the login page shows
export const GET = handle(op.listAuthProviders, async () => {
  const oidc = configuredOidc();
  return json({ oidc: oidc ? { name: oidc.name } : null });
});
