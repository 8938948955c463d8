import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { toMember } from "@/lib/teams/present";
import { membersOf } from "@/lib/teams/service";

// GET /api/v1/members – the workspace's members
export const GET = handle(op.listMembers, async ({ principal }) =>
  json({ data: (await membersOf(principal.workspaceId)).map(toMember) }),
);
