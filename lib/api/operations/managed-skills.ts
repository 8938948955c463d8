import { betaQuerySchema, deletedSchema, resourceIdParamsSchema } from "@/lib/schemas/managed-common";
import {
  createManagedSkillSchema,
  managedSkillListQuerySchema,
  managedSkillListSchema,
  managedSkillSchema,
} from "@/lib/schemas/managed-skill";

import { defineOperation } from "../operation";
import { aerr, ainvalid, amissing, FACADE } from "./managed-responses";

/* The Managed Agents API facade: the skill library (docs/managed-agents.md). */

const SKILLS = "/v1/skills";
const skill = { description: "The skill", schema: managedSkillSchema };

export const managedSkillOperations = {
  managedListSkills: defineOperation({
    ...FACADE,
    id: "managedListSkills",
    auth: "viewer",
    method: "GET",
    path: SKILLS,
    summary: "List skills (the workspace's skill library; all are `custom`)",
    query: managedSkillListQuerySchema,
    responses: { 200: { description: "A page of skills", schema: managedSkillListSchema }, 400: ainvalid },
  }),
  managedCreateSkill: defineOperation({
    ...FACADE,
    id: "managedCreateSkill",
    auth: "admin",
    audit: "skill.create",
    method: "POST",
    path: SKILLS,
    summary: "Create a skill from its SKILL.md (multipart upload, as the SDK sends it)",
    description:
      "One file, SKILL.md: its frontmatter's `name` (or `display_name`) and `description`, and its body, " +
      "become a skill of the library, attachable to agents by id.",
    query: betaQuerySchema,
    body: createManagedSkillSchema,
    multipart: true,
    maxBodyBytes: 1024 * 1024,
    responses: { 200: skill, 400: ainvalid, 413: aerr("Body larger than 1 MiB") },
  }),
  managedGetSkill: defineOperation({
    ...FACADE,
    id: "managedGetSkill",
    auth: "viewer",
    resource: "skill",
    method: "GET",
    path: `${SKILLS}/{id}`,
    summary: "Get a skill",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    responses: { 200: skill, 404: amissing },
  }),
  managedDeleteSkill: defineOperation({
    ...FACADE,
    id: "managedDeleteSkill",
    auth: "admin",
    resource: "skill",
    audit: "skill.delete",
    method: "DELETE",
    path: `${SKILLS}/{id}`,
    summary: "Delete a skill (agents keep the snapshot they attached)",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    responses: { 200: { description: "Deleted", schema: deletedSchema("skill_deleted") }, 404: amissing },
  }),
};
