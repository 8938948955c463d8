import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { describeCaller } from "@/lib/teams/caller";

// GET /api/v1/auth/session – who is calling, in which workspace, with which role
export const GET = handle(op.getAuthSession, async ({ principal }) => json(await describeCaller(principal)));
