import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { deleteManagedSkill, getManagedSkill } from "@/lib/managed/skills";

// GET /v1/skills/{id} – a skill
export const GET = handle(op.managedGetSkill, async ({ params }) => json(await getManagedSkill(params.id)));

// DELETE /v1/skills/{id} – delete a skill
export const DELETE = handle(op.managedDeleteSkill, async ({ params }) =>
  json(await deleteManagedSkill(params.id)),
);
