import { attachSkill, detachSkill } from "@/lib/agents/service";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// POST /api/v1/managed_agents/agents/{id}/skill – attach a library skill or an inline one
export const POST = handle(op.attachSkill, async ({ params, body, principal }) =>
  json(await attachSkill(params.id, body, principal.workspaceId)),
);

// DELETE /api/v1/managed_agents/agents/{id}/skill?skill_id= – detach one skill, or all
export const DELETE = handle(op.detachSkill, async ({ params, query }) =>
  json(await detachSkill(params.id, query.skill_id)),
);
