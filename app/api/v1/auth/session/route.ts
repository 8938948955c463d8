import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/auth/session – who is calling
export const GET = handle(op.getAuthSession, async ({ principal }) =>
  json({
    kind: principal?.kind ?? "master",
    expires_at: principal?.kind === "browser" ? principal.expiresAt.toISOString() : null,
  }),
);
