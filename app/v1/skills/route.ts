import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { createManagedSkill, listManagedSkills } from "@/lib/managed/skills";

// GET /v1/skills – the skill library
export const GET = handle(op.managedListSkills, async ({ query, principal }) =>
  json(await listManagedSkills(query, principal.workspaceId)),
);

// POST /v1/skills – a skill from its uploaded SKILL.md
export const POST = handle(op.managedCreateSkill, async ({ body, principal, audit }) => {
  const skill = await createManagedSkill(body, principal.workspaceId);
  audit.resourceId = skill.id;
  audit.detail = { name: skill.display_name, via: "managed_agents_api" };
  return json(skill);
});
