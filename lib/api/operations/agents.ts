import {
  agentFileParamsSchema,
  agentIdParamsSchema,
  agentListQuerySchema,
  agentListSchema,
  agentSchema,
  attachSkillResultSchema,
  attachSkillSchema,
  createAgentSchema,
  detachSkillQuerySchema,
  detachSkillResultSchema,
  updateAgentSchema,
} from "@/lib/schemas/agent";

import { defineOperation } from "../operation";
import { AGENTS } from "./paths";
import { conflict, err, invalid, missing } from "./responses";

const AGENT_BODY_MAX = 12 * 1024 * 1024;

/** Agents: their configuration, attached skills and sandbox files. */
export const agentOperations = {
  listAgents: defineOperation({
    id: "listAgents",
    auth: "viewer",
    method: "GET",
    path: AGENTS,
    tag: "Agents",
    summary: "List agents",
    description: "Search matches name, id, model and harness, case-insensitively.",
    query: agentListQuerySchema,
    responses: { 200: { description: "A page of agents", schema: agentListSchema }, 400: invalid },
  }),
  createAgent: defineOperation({
    id: "createAgent",
    auth: "admin",
    audit: "agent.create",
    method: "POST",
    path: AGENTS,
    tag: "Agents",
    summary: "Create an agent",
    description:
      "`env_vars` values are write-only: stored encrypted (AES-256-GCM) and always returned as `********`. " +
      "Each of `skill_ids` is appended to the prompt as a `<!-- skill:<id> -->` block holding a snapshot " +
      "of the skill's content.",
    body: createAgentSchema,
    maxBodyBytes: AGENT_BODY_MAX,
    responses: {
      201: { description: "The created agent", schema: agentSchema },
      400: invalid,
      404: err("A skill in `skill_ids` does not exist"),
      413: err("Body larger than 12 MB"),
    },
  }),
  getAgent: defineOperation({
    id: "getAgent",
    auth: "viewer",
    resource: "agent",
    method: "GET",
    path: `${AGENTS}/{id}`,
    tag: "Agents",
    summary: "Get an agent",
    params: agentIdParamsSchema,
    responses: { 200: { description: "The agent", schema: agentSchema }, 404: missing },
  }),
  updateAgent: defineOperation({
    id: "updateAgent",
    auth: "admin",
    resource: "agent",
    audit: "agent.update",
    method: "PATCH",
    path: `${AGENTS}/{id}`,
    tag: "Agents",
    summary: "Update an agent",
    description:
      "Every field is optional. `env_vars` replaces the whole set: send `********` as a value to keep the " +
      "stored secret. `sandbox_files` replaces the whole list: an entry with `sha256` instead of `content` " +
      "keeps that stored file. `skill_ids` sets exactly which skills are attached. `expected_version` makes " +
      "a stale write fail with 409.",
    params: agentIdParamsSchema,
    body: updateAgentSchema,
    maxBodyBytes: AGENT_BODY_MAX,
    responses: {
      200: { description: "The updated agent", schema: agentSchema },
      400: invalid,
      404: missing,
      409: conflict,
    },
  }),
  deleteAgent: defineOperation({
    id: "deleteAgent",
    auth: "admin",
    resource: "agent",
    audit: "agent.delete",
    method: "DELETE",
    path: `${AGENTS}/{id}`,
    tag: "Agents",
    summary: "Delete an agent",
    params: agentIdParamsSchema,
    responses: { 204: { description: "Deleted" }, 404: missing },
  }),
  attachSkill: defineOperation({
    id: "attachSkill",
    auth: "admin",
    resource: "agent",
    audit: "agent.skill_attach",
    method: "POST",
    path: `${AGENTS}/{id}/skill`,
    tag: "Agents",
    summary: "Attach a skill to an agent",
    description:
      "Send `{skill_id}` to attach a library skill, or `{name, content, description?, save_to_library?}` to " +
      "write one inline. The agent keeps a snapshot: later edits to the library skill reach the agent only " +
      "when it is detached and attached again. Attaching an already attached skill changes nothing.",
    params: agentIdParamsSchema,
    body: attachSkillSchema,
    responses: {
      200: {
        description: "The agent, and the skill when it is in the library",
        schema: attachSkillResultSchema,
      },
      400: invalid,
      404: missing,
    },
  }),
  detachSkill: defineOperation({
    id: "detachSkill",
    auth: "admin",
    resource: "agent",
    audit: "agent.skill_detach",
    method: "DELETE",
    path: `${AGENTS}/{id}/skill`,
    tag: "Agents",
    summary: "Detach one skill (`?skill_id=`) or all skills",
    params: agentIdParamsSchema,
    query: detachSkillQuerySchema,
    responses: {
      200: { description: "The agent", schema: detachSkillResultSchema },
      404: err("No such agent, or the skill is not attached"),
    },
  }),
  getAgentFile: defineOperation({
    id: "getAgentFile",
    auth: "viewer",
    resource: "agent",
    method: "GET",
    path: `${AGENTS}/{id}/files/{index}`,
    tag: "Agents",
    summary: "Download one of an agent's sandbox files",
    params: agentFileParamsSchema,
    responses: {
      200: {
        description: "The file's bytes, with its content type",
        contentType: "application/octet-stream",
      },
      404: missing,
    },
  }),
};
