import { listSkillVersions } from "@/db/queries/skills";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/skills/{id}/versions – the skill's version history
export const GET = handle(op.listSkillVersions, async ({ params }) =>
  json(await listSkillVersions(params.id)),
);
