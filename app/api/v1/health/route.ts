import { pingDatabase } from "@/db/queries/health";
import { ApiError } from "@/lib/api/errors";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { runtime } from "@/lib/runtime";

// GET /api/v1/health – liveness and database check, the one route without auth
export const GET = handle(op.health, async () => {
  if (!(await pingDatabase())) throw new ApiError("unavailable", "database unreachable");
  return json({ ok: true, database: runtime().dbKind });
});
