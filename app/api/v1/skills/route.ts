import { createSkill, listSkills } from "@/db/queries/skills";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/skills – list the skill library
export const GET = handle(op.listSkills, async ({ query, principal }) =>
  json(await listSkills(query, principal.workspaceId)),
);

// POST /api/v1/skills – create a skill
export const POST = handle(op.createSkill, async ({ body, principal }) =>
  json(await createSkill(body, principal.workspaceId), 201),
);
