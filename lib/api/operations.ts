import { z } from "zod";

import {
  agentFileParamsSchema,
  agentIdParamsSchema,
  agentListQuerySchema,
  agentListSchema,
  agentSchema,
  attachSkillSchema,
  createAgentSchema,
  detachSkillQuerySchema,
  updateAgentSchema,
} from "@/lib/schemas/agent";
import { authSessionSchema, loginSchema } from "@/lib/schemas/auth";
import { errorEnvelopeSchema } from "@/lib/schemas/common";
import { modelListSchema } from "@/lib/schemas/model";
import {
  createSkillSchema,
  skillIdParamsSchema,
  skillListQuerySchema,
  skillListSchema,
  skillSchema,
  skillVersionListSchema,
  updateSkillSchema,
} from "@/lib/schemas/skill";

import { defineOperation } from "./operation";

const AGENTS = "/api/v1/managed_agents/agents";
const AGENT_BODY_MAX = 12 * 1024 * 1024;

const err = (description: string) => ({ description, schema: errorEnvelopeSchema });
const invalid = err("Malformed JSON, or a field breaks a rule (see `issues`)");
const missing = err("No such resource");
const conflict = err("Stale `expected_version`");

const agentWithSkillSchema = z.object({ agent: agentSchema, skill: skillSchema.nullable() });

/** Every API operation. Route files wrap these; OpenAPI and the auth tests are generated from them. */
export const operations = {
  health: defineOperation({
    id: "health",
    method: "GET",
    path: "/api/v1/health",
    tag: "Platform",
    summary: "Liveness and database check (no auth)",
    auth: "none",
    responses: {
      200: { description: "Up", schema: z.object({ ok: z.literal(true), database: z.string() }) },
      503: err("Database unreachable"),
    },
  }),
  login: defineOperation({
    id: "login",
    method: "POST",
    path: "/api/v1/auth/login",
    tag: "Auth",
    summary: "Trade the master key for a browser session cookie",
    description:
      "Sets an HttpOnly, SameSite=Lax, signed and expiring `hangar_session` cookie; the key itself is never " +
      "stored in the browser. State-changing requests made with the cookie must come from Hangar's own origin.",
    auth: "none",
    body: loginSchema,
    responses: {
      200: { description: "Logged in; the cookie is set", schema: authSessionSchema },
      400: invalid,
      401: err("Wrong master key"),
    },
  }),
  logout: defineOperation({
    id: "logout",
    method: "POST",
    path: "/api/v1/auth/logout",
    tag: "Auth",
    summary: "End this browser session (the cookie stops working everywhere)",
    responses: { 204: { description: "Logged out; the cookie is cleared" } },
  }),
  getAuthSession: defineOperation({
    id: "getAuthSession",
    method: "GET",
    path: "/api/v1/auth/session",
    tag: "Auth",
    summary: "Who is calling: the master key or a browser session, and when it expires",
    responses: { 200: { description: "The caller", schema: authSessionSchema } },
  }),
  openapi: defineOperation({
    id: "openapi",
    method: "GET",
    path: "/api/v1/openapi.json",
    tag: "Platform",
    summary: "This API description (OpenAPI 3.1)",
    responses: { 200: { description: "OpenAPI document", schema: z.record(z.string(), z.unknown()) } },
  }),
  listModels: defineOperation({
    id: "listModels",
    method: "GET",
    path: "/api/v1/models",
    tag: "Platform",
    summary: "Models the configured model gateway offers",
    description:
      "Reads `LITELLM_API_BASE/v1/models` with the platform's key (which never leaves the server). " +
      "With no gateway configured, or when the gateway fails, `data` is empty and `reason` says why.",
    responses: { 200: { description: "Model list", schema: modelListSchema } },
  }),
  listAgents: defineOperation({
    id: "listAgents",
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
    method: "GET",
    path: `${AGENTS}/{id}`,
    tag: "Agents",
    summary: "Get an agent",
    params: agentIdParamsSchema,
    responses: { 200: { description: "The agent", schema: agentSchema }, 404: missing },
  }),
  updateAgent: defineOperation({
    id: "updateAgent",
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
    method: "DELETE",
    path: `${AGENTS}/{id}`,
    tag: "Agents",
    summary: "Delete an agent",
    params: agentIdParamsSchema,
    responses: { 204: { description: "Deleted" }, 404: missing },
  }),
  attachSkill: defineOperation({
    id: "attachSkill",
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
        schema: agentWithSkillSchema,
      },
      400: invalid,
      404: missing,
    },
  }),
  detachSkill: defineOperation({
    id: "detachSkill",
    method: "DELETE",
    path: `${AGENTS}/{id}/skill`,
    tag: "Agents",
    summary: "Detach one skill (`?skill_id=`) or all skills",
    params: agentIdParamsSchema,
    query: detachSkillQuerySchema,
    responses: {
      200: { description: "The agent", schema: z.object({ agent: agentSchema }) },
      404: err("No such agent, or the skill is not attached"),
    },
  }),
  getAgentFile: defineOperation({
    id: "getAgentFile",
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
  listSkills: defineOperation({
    id: "listSkills",
    method: "GET",
    path: "/api/v1/skills",
    tag: "Skills",
    summary: "List skills in the library",
    query: skillListQuerySchema,
    responses: { 200: { description: "A page of skills", schema: skillListSchema }, 400: invalid },
  }),
  createSkill: defineOperation({
    id: "createSkill",
    method: "POST",
    path: "/api/v1/skills",
    tag: "Skills",
    summary: "Create a skill",
    body: createSkillSchema,
    responses: { 201: { description: "The created skill", schema: skillSchema }, 400: invalid },
  }),
  getSkill: defineOperation({
    id: "getSkill",
    method: "GET",
    path: "/api/v1/skills/{id}",
    tag: "Skills",
    summary: "Get a skill",
    params: skillIdParamsSchema,
    responses: { 200: { description: "The skill", schema: skillSchema }, 404: missing },
  }),
  updateSkill: defineOperation({
    id: "updateSkill",
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
    method: "DELETE",
    path: "/api/v1/skills/{id}",
    tag: "Skills",
    summary: "Delete a skill (agents keep their snapshot)",
    params: skillIdParamsSchema,
    responses: { 204: { description: "Deleted" }, 404: missing },
  }),
  listSkillVersions: defineOperation({
    id: "listSkillVersions",
    method: "GET",
    path: "/api/v1/skills/{id}/versions",
    tag: "Skills",
    summary: "Every version of a skill, newest (current) first",
    params: skillIdParamsSchema,
    responses: { 200: { description: "Versions", schema: skillVersionListSchema }, 404: missing },
  }),
};

export type OperationId = keyof typeof operations;
