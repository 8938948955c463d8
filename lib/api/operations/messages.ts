import { sessionIdParamsSchema } from "@/lib/schemas/session";
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

import { defineOperation } from "../operation";
import { SESSIONS } from "./paths";
import { err, invalid, missing } from "./responses";

/** /sessions/{id}/opencode/{path}: one description per method the OpenAPI document lists. */
function opencodeProxy<const M extends "GET" | "POST">(method: M) {
  return defineOperation({
    id: `opencodeProxy${method === "GET" ? "Get" : "Post"}`,
    // Reading is a viewer's; anything else drives the harness, as sending a message does.
    auth: method === "GET" ? ("viewer" as const) : ("operator" as const),
    resource: "session" as const,
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

/** Talking to a session's harness: turns, their event streams, the thread, permissions, opencode's own API. */
export const messageOperations = {
  sendMessage: defineOperation({
    id: "sendMessage",
    auth: "operator",
    resource: "session",
    audit: "message.send",
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
    auth: "operator",
    resource: "session",
    audit: "message.send",
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
    auth: "viewer",
    resource: "session",
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
    auth: "viewer",
    resource: "session",
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
    auth: "viewer",
    resource: "session",
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
    auth: "operator",
    resource: "session",
    audit: "turn.abort",
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
    auth: "operator",
    resource: "session",
    audit: "permission.answer",
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
};
