import { agentIdParamsSchema } from "@/lib/schemas/agent";
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
  terminalQuerySchema,
} from "@/lib/schemas/session";

import { defineOperation } from "../operation";
import { AGENTS, SESSIONS } from "./paths";
import { err, invalid, missing } from "./responses";

/** Sessions: starting, stopping and restarting them, their terminal tokens, timeline and sandbox logs. */
export const sessionOperations = {
  createSession: defineOperation({
    id: "createSession",
    auth: "operator",
    resource: "agent",
    audit: "session.start",
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
    auth: "viewer",
    method: "GET",
    path: SESSIONS,
    tag: "Sessions",
    summary: "List sessions, newest first",
    query: sessionListQuerySchema,
    responses: { 200: { description: "A page of sessions", schema: sessionListSchema }, 400: invalid },
  }),
  getSession: defineOperation({
    id: "getSession",
    auth: "viewer",
    resource: "session",
    method: "GET",
    path: `${SESSIONS}/{id}`,
    tag: "Sessions",
    summary: "Get a session",
    params: sessionIdParamsSchema,
    responses: { 200: { description: "The session", schema: sessionSchema }, 404: missing },
  }),
  deleteSession: defineOperation({
    id: "deleteSession",
    auth: "operator",
    resource: "session",
    audit: "session.stop",
    method: "DELETE",
    path: `${SESSIONS}/{id}`,
    tag: "Sessions",
    summary: "Stop a session (idempotent); its record and timeline stay",
    params: sessionIdParamsSchema,
    responses: { 200: { description: "The session, dead", schema: sessionSchema }, 404: missing },
  }),
  restartSession: defineOperation({
    id: "restartSession",
    auth: "operator",
    resource: "session",
    audit: "session.restart",
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
  openTerminal: defineOperation({
    id: "openTerminal",
    auth: "viewer",
    resource: "session",
    method: "GET",
    path: `${SESSIONS}/{id}/tty`,
    tag: "Terminals",
    summary: "The session's terminal, over a WebSocket (send `Upgrade: websocket`)",
    description:
      "Claude Code and Codex sessions (any session with `terminal=shell`). The reference product's " +
      'framing: client text frames are keystrokes, binary frames raw bytes, `{"type":"resize","cols","rows"}` ' +
      'resizes, `{"type":"ping"}` is ignored, `{"type":"takeover"}` takes the keyboard; the server sends ' +
      "raw terminal output, the current screen first. Authenticate like any route, or with the session's " +
      "`tty_token` (`?token=` or Bearer). A viewer (or a read-only token) always watches; typing and a shell " +
      "need the operator role. Revoking the credential closes the socket (code 4403; 4401 for revoked tokens).",
    params: sessionIdParamsSchema,
    query: terminalQuerySchema,
    responses: {
      101: { description: "Switching to the WebSocket" },
      404: missing,
      409: err("The session is still starting, or its harness has no TUI (open `terminal=shell`)"),
      410: err("The session has ended"),
      426: err("A plain GET: this route only answers a WebSocket upgrade"),
    },
  }),
  revokeTtyToken: defineOperation({
    id: "revokeTtyToken",
    auth: "operator",
    resource: "session",
    audit: "terminal.revoke_tokens",
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
    auth: "viewer",
    resource: "session",
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
    auth: "viewer",
    resource: "session",
    method: "GET",
    path: `${SESSIONS}/{id}/sandbox_logs`,
    tag: "Sessions",
    summary: "Bootstrap and harness output of the session's sandbox (plain text)",
    params: sessionIdParamsSchema,
    query: sandboxLogsQuerySchema,
    responses: { 200: { description: "The last lines", contentType: "text/plain" }, 404: missing },
  }),
};
