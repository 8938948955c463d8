import { deleteSkill, getSkill, updateSkill } from "@/db/queries/skills";
import { handle, json, noContent } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/skills/{id} – get a skill
export const GET = handle(op.getSkill, async ({ params }) => json(await getSkill(params.id)));

// PATCH /api/v1/skills/{id} – update a skill, keeping the previous content as a version
export const PATCH = handle(op.updateSkill, async ({ params, body }) =>
  json(await updateSkill(params.id, body)),
);

// DELETE /api/v1/skills/{id} – delete a skill
export const DELETE = handle(op.deleteSkill, async ({ params }) => {
  await deleteSkill(params.id);
  return noContent();
});
