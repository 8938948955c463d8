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
import {
  abortResultSchema,
  okResultSchema,
  opencodeProxyParamsSchema,
  permissionParamsSchema,
  permissionReplySchema,
  sendMessageSchema,
  streamQuerySchema,
  threadListSchema,
  threadMessageSchema,
} from "@/lib/schemas/session-event";
import {
  gatewayRequestListQuerySchema,
  gatewayRequestListSchema,
  modelListSchema,
} from "@/lib/schemas/model";
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
/** /sessions/{id}/opencode/{path}: one description per method the OpenAPI document lists. */
function opencodeProxy<const M extends "GET" | "POST">(method: M) {
  return defineOperation({
    id: `opencodeProxy${method === "GET" ? "Get" : "Post"}`,
    method,
    path: `${SESSIONS}/{id}/opencode/{path}`,
    tag: "opencode",
    summary: `The session's opencode server API, verbatim (${method}; also PATCH, PUT and DELETE)`,
    description:
      "For opencode sessions: any path of the opencode server API (e.g. `session`, `session/{sid}/message`, " +
      "`event`), so `createOpencodeClient({ baseUrl: <this prefix> })` from @opencode-ai/sdk works with " +
      "Hangar's credentials. Streams pass through as they come.",
    params: opencodeProxyParamsSchema,
    responses: {
      200: { description: "The opencode server's answer" },
      404: err("No such session, or it is not an opencode session"),
      409: err("The session is still starting"),
      410: err("The session has ended"),
      502: err("The opencode server in the sandbox is not answering"),
    },
  });
}

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
      "Sets an HttpOnly, SameSite=Lax, signed and expiring `hangar_session` cookie (`__Host-hangar_session`, " +
      "Secure, over TLS); the key itself is never stored in the browser. State-changing requests made with " +
      "the cookie must come from Hangar's own origin. Attempts are limited per client address (a burst of " +
      "20, then 10 a minute; a wrong key counts twice); over the limit every attempt gets 429 with " +
      "`Retry-After`, the right key too.",
    auth: "none",
    body: loginSchema,
    responses: {
      200: { description: "Logged in; the cookie is set", schema: authSessionSchema },
      400: invalid,
      401: err("Wrong master key"),
      429: err("Too many attempts from this address; see `Retry-After`"),
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
  revokeTtyToken: defineOperation({
    id: "revokeTtyToken",
    method: "POST",
    path: `${SESSIONS}/{id}/tty_token/revoke`,
    tag: "Sessions",
    summary: "Revoke every terminal token of a session; the answer carries a fresh one",
    description:
      "Every `tty_token` handed out for this session so far stops opening its terminal, and terminal " +
      "connections made with one are closed. Tokens also end when the session stops or restarts. " +
      "Connections made with the master key or a browser login are not affected.",
    params: sessionIdParamsSchema,
    responses: { 200: { description: "The session, with a new token", schema: sessionSchema }, 404: missing },
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
  listGatewayRequests: defineOperation({
    id: "listGatewayRequests",
    method: "GET",
    path: "/api/v1/model_gateway/requests",
    tag: "Models",
    summary: "Requests the built-in test model received (newest 500), optionally for one session",
    description:
      "Only the built-in test model keeps this log (`builtin: false` and no data when a real gateway " +
      "is configured). It holds prompts and tool calls, never keys.",
    query: gatewayRequestListQuerySchema,
    responses: { 200: { description: "The request log, oldest first", schema: gatewayRequestListSchema } },
  }),
  sendMessage: defineOperation({
    id: "sendMessage",
    method: "POST",
    path: `${SESSIONS}/{id}/message`,
    tag: "Messages",
    summary: "Send a message and wait for the whole reply (one turn)",
    description:
      "Returns the assistant's message in the `{info, parts}` shape (text, reasoning and tool parts). " +
      "Everything the turn does is also in the session's event log. The agent's prompt is in effect " +
      "from the first turn. One turn runs at a time: a second one while the first runs gets 409.",
    params: sessionIdParamsSchema,
    body: sendMessageSchema,
    maxBodyBytes: 1024 * 1024,
    responses: {
      200: { description: "The assistant's reply", schema: threadMessageSchema },
      400: invalid,
      404: missing,
      409: err("The session is starting, a turn is running, or it is a terminal harness"),
      410: err("The session has ended; restart it"),
      502: err("The harness failed the turn"),
    },
  }),
  sendMessageStream: defineOperation({
    id: "sendMessageStream",
    method: "POST",
    path: `${SESSIONS}/{id}/message_stream`,
    tag: "Messages",
    summary: "Send a message and stream the turn as server-sent events",
    description:
      "Each SSE frame is one event of the log (`id: <seq>`, `event: <type>`, data the event as JSON), from " +
      "the user message to `turn_complete` or `turn_error`; then the stream ends. A dropped client can " +
      "resume with GET /events and Last-Event-ID without missing or repeating a frame.",
    params: sessionIdParamsSchema,
    body: sendMessageSchema,
    maxBodyBytes: 1024 * 1024,
    responses: {
      200: { description: "The turn's events", contentType: "text/event-stream" },
      400: invalid,
      404: missing,
      409: err("The session is starting, a turn is running, or it is a terminal harness"),
      410: err("The session has ended; restart it"),
    },
  }),
  sessionEvents: defineOperation({
    id: "sessionEvents",
    method: "GET",
    path: `${SESSIONS}/{id}/events`,
    tag: "Messages",
    summary: "The session's event log as a live server-sent-event stream",
    description:
      "Replays events after `Last-Event-ID` (or `?after=`, default 0) and stays open for new ones. " +
      "Every frame carries `id: <seq>`: reconnecting with the last id seen delivers every later event " +
      "exactly once, including what streamed while the client was away. A comment every 15 s keeps " +
      "the connection alive; a harness that goes quiet mid-turn produces `stalled` events.",
    params: sessionIdParamsSchema,
    query: streamQuerySchema,
    responses: {
      200: { description: "Events, oldest first, then live", contentType: "text/event-stream" },
      404: missing,
    },
  }),
  sessionStream: defineOperation({
    id: "sessionStream",
    method: "GET",
    path: `${SESSIONS}/{id}/stream`,
    tag: "Messages",
    summary: "Stream the session's events: the current turn, or everything with follow=1",
    description:
      "Like /events. Without `follow=1` the stream ends when the running turn ends (at once when none " +
      "runs, after the backlog); with `follow=1` it stays open across turns.",
    params: sessionIdParamsSchema,
    query: streamQuerySchema,
    responses: {
      200: { description: "Events", contentType: "text/event-stream" },
      404: missing,
    },
  }),
  listMessages: defineOperation({
    id: "listMessages",
    method: "GET",
    path: `${SESSIONS}/{id}/messages`,
    tag: "Messages",
    summary: "The whole thread, from Hangar's log (also after the sandbox is gone)",
    description: "A bare array of `{info, parts}` messages, as the reference product returns it.",
    params: sessionIdParamsSchema,
    responses: {
      200: { description: "The thread, oldest first", schema: threadListSchema },
      404: missing,
    },
  }),
  abortTurn: defineOperation({
    id: "abortTurn",
    method: "POST",
    path: `${SESSIONS}/{id}/abort`,
    tag: "Messages",
    summary: "Stop the running turn (it ends with finish `aborted`)",
    params: sessionIdParamsSchema,
    responses: {
      200: {
        description: "Whether a turn was running",
        schema: abortResultSchema,
      },
      404: missing,
    },
  }),
  answerPermission: defineOperation({
    id: "answerPermission",
    method: "POST",
    path: `${SESSIONS}/{id}/permissions/{pid}`,
    tag: "Messages",
    summary: "Answer a harness's permission request (once, always or reject)",
    params: permissionParamsSchema,
    body: permissionReplySchema,
    responses: {
      200: { description: "Answered", schema: okResultSchema },
      400: invalid,
      404: missing,
      409: err("No turn is waiting for this permission"),
    },
  }),
  opencodeProxyGet: opencodeProxy("GET"),
  opencodeProxyPost: opencodeProxy("POST"),
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
