import {
  createSkillSchema,
  skillIdParamsSchema,
  skillListQuerySchema,
  skillListSchema,
  skillSchema,
  skillVersionListSchema,
  updateSkillSchema,
} from "@/lib/schemas/skill";

import { defineOperation } from "../operation";
import { conflict, invalid, missing } from "./responses";

/** The skill library and each skill's versions. */
export const skillOperations = {
  listSkills: defineOperation({
    id: "listSkills",
    auth: "viewer",
    method: "GET",
    path: "/api/v1/skills",
    tag: "Skills",
    summary: "List skills in the library",
    query: skillListQuerySchema,
    responses: { 200: { description: "A page of skills", schema: skillListSchema }, 400: invalid },
  }),
  createSkill: defineOperation({
    id: "createSkill",
    auth: "admin",
    audit: "skill.create",
    method: "POST",
    path: "/api/v1/skills",
    tag: "Skills",
    summary: "Create a skill",
    body: createSkillSchema,
    responses: { 201: { description: "The created skill", schema: skillSchema }, 400: invalid },
  }),
  getSkill: defineOperation({
    id: "getSkill",
    auth: "viewer",
    resource: "skill",
    method: "GET",
    path: "/api/v1/skills/{id}",
    tag: "Skills",
    summary: "Get a skill",
    params: skillIdParamsSchema,
    responses: { 200: { description: "The skill", schema: skillSchema }, 404: missing },
  }),
  updateSkill: defineOperation({
    id: "updateSkill",
    auth: "admin",
    resource: "skill",
    audit: "skill.update",
    method: "PATCH",
    path: "/api/v1/skills/{id}",
    tag: "Skills",
    summary: "Update a skill",
    description:
      "Each change is kept as a new version (see /versions). Agents that attached the skill keep their " +
      "snapshot; re-attach the skill to give them the new content.",
    params: skillIdParamsSchema,
    body: updateSkillSchema,
    responses: {
      200: { description: "The updated skill", schema: skillSchema },
      400: invalid,
      404: missing,
      409: conflict,
    },
  }),
  deleteSkill: defineOperation({
    id: "deleteSkill",
    auth: "admin",
    resource: "skill",
    audit: "skill.delete",
    method: "DELETE",
    path: "/api/v1/skills/{id}",
    tag: "Skills",
    summary: "Delete a skill (agents keep their snapshot)",
    params: skillIdParamsSchema,
    responses: { 204: { description: "Deleted" }, 404: missing },
  }),
  listSkillVersions: defineOperation({
    id: "listSkillVersions",
    auth: "viewer",
    resource: "skill",
    method: "GET",
    path: "/api/v1/skills/{id}/versions",
    tag: "Skills",
    summary: "Every version of a skill, newest (current) first",
    params: skillIdParamsSchema,
    responses: { 200: { description: "Versions", schema: skillVersionListSchema }, 404: missing },
  }),
};
