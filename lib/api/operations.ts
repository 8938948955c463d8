import { z } from "zod";

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
import { authSessionSchema, loginSchema } from "@/lib/schemas/auth";
import { errorEnvelopeSchema } from "@/lib/schemas/common";
import { healthSchema } from "@/lib/schemas/health";
import { modelListSchema } from "@/lib/schemas/model";
import {
  createSessionSchema,
  restartSessionSchema,
  sandboxLogsQuerySchema,
  sessionIdParamsSchema,
  sessionListQuerySchema,
  sessionListSchema,
  sessionLogQuerySchema,
  sessionLogSchema,
  sessionSchema,
} from "@/lib/schemas/session";
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
const SESSIONS = "/api/v1/managed_agents/sessions";
const AGENT_BODY_MAX = 12 * 1024 * 1024;

const err = (description: string) => ({ description, schema: errorEnvelopeSchema });
const invalid = err("Malformed JSON, or a field breaks a rule (see `issues`)");
const missing = err("No such resource");
const conflict = err("Stale `expected_version`");

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
      200: { description: "Up", schema: healthSchema },
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
        schema: attachSkillResultSchema,
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
      200: { description: "The agent", schema: detachSkillResultSchema },
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
  createSession: defineOperation({
    id: "createSession",
    method: "POST",
    path: `${AGENTS}/{id}/session`,
    tag: "Sessions",
    summary: "Start a session of an agent",
    description:
      "Answers at once with status `creating`; the sandbox boots in the background (watch `phase` and " +
      "`timings`, or the /log timeline). The agent's configuration is copied onto the session, so editing " +
      "the agent does not change it. `env_vars` override the agent's, reach only the sandbox and are never " +
      "stored; they may include `GIT_TOKEN`, used for the clone and then removed.",
    params: agentIdParamsSchema,
    body: createSessionSchema,
    responses: {
      201: { description: "The session, creating", schema: sessionSchema },
      400: invalid,
      404: err("No such agent, or a skill in `skill_ids` does not exist"),
    },
  }),
  listSessions: defineOperation({
    id: "listSessions",
    method: "GET",
    path: SESSIONS,
    tag: "Sessions",
    summary: "List sessions, newest first",
    query: sessionListQuerySchema,
    responses: { 200: { description: "A page of sessions", schema: sessionListSchema }, 400: invalid },
  }),
  getSession: defineOperation({
    id: "getSession",
    method: "GET",
    path: `${SESSIONS}/{id}`,
    tag: "Sessions",
    summary: "Get a session",
    params: sessionIdParamsSchema,
    responses: { 200: { description: "The session", schema: sessionSchema }, 404: missing },
  }),
  deleteSession: defineOperation({
    id: "deleteSession",
    method: "DELETE",
    path: `${SESSIONS}/{id}`,
    tag: "Sessions",
    summary: "Stop a session (idempotent); its record and timeline stay",
    params: sessionIdParamsSchema,
    responses: { 200: { description: "The session, dead", schema: sessionSchema }, 404: missing },
  }),
  restartSession: defineOperation({
    id: "restartSession",
    method: "POST",
    path: `${SESSIONS}/{id}/restart`,
    tag: "Sessions",
    summary: "Restart a session in a new sandbox with the same configuration",
    description: "Per-session `env_vars` are not stored: pass them again to have them in the new sandbox.",
    params: sessionIdParamsSchema,
    body: restartSessionSchema,
    responses: {
      200: { description: "The session, creating again", schema: sessionSchema },
      404: missing,
      409: err("The session is still starting"),
    },
  }),
  sessionLog: defineOperation({
    id: "sessionLog",
    method: "GET",
    path: `${SESSIONS}/{id}/log`,
    tag: "Sessions",
    summary: "The session's event timeline (from the database; also after the sandbox is gone)",
    params: sessionIdParamsSchema,
    query: sessionLogQuerySchema,
    responses: {
      200: {
        description: "Events after `after`, oldest first",
        schema: sessionLogSchema,
      },
      404: missing,
    },
  }),
  sandboxLogs: defineOperation({
    id: "sandboxLogs",
    method: "GET",
    path: `${SESSIONS}/{id}/sandbox_logs`,
    tag: "Sessions",
    summary: "Bootstrap and harness output of the session's sandbox (plain text)",
    params: sessionIdParamsSchema,
    query: sandboxLogsQuerySchema,
    responses: { 200: { description: "The last lines", contentType: "text/plain" }, 404: missing },
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
