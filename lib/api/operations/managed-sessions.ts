import { betaQuerySchema, deletedSchema, resourceIdParamsSchema } from "@/lib/schemas/managed-common";
import {
  createManagedSessionSchema,
  managedEventListQuerySchema,
  managedEventListSchema,
  managedSessionListQuerySchema,
  managedSessionListSchema,
  managedSessionQuerySchema,
  managedSessionSchema,
  managedStreamQuerySchema,
  sendEventsSchema,
  sentEventsSchema,
  updateManagedSessionSchema,
} from "@/lib/schemas/managed-session";

import { defineOperation } from "../operation";
import { aerr, ainvalid, amissing, FACADE } from "./managed-responses";

/* The Managed Agents API facade: sessions and their events (docs/managed-agents.md). */

const SESSIONS = "/v1/sessions";
const busy = aerr("The session is busy (a turn is running) or cannot take the event now");

export const managedSessionOperations = {
  managedListSessions: defineOperation({
    ...FACADE,
    id: "managedListSessions",
    auth: "viewer",
    method: "GET",
    path: SESSIONS,
    summary: "List sessions (cursor pages)",
    query: managedSessionListQuerySchema,
    responses: {
      200: { description: "A page of sessions", schema: managedSessionListSchema },
      400: ainvalid,
    },
  }),
  managedCreateSession: defineOperation({
    ...FACADE,
    id: "managedCreateSession",
    auth: "operator",
    audit: "session.create",
    method: "POST",
    path: SESSIONS,
    summary: "Create a session of an agent (or a pinned version) in an environment",
    description:
      "Answers at once with status `rescheduling` while the sandbox boots; `idle` once it is ready. " +
      "A `github_repository` resource is cloned into the workspace (its token reaches the clone only, " +
      "never the database). `initial_events` may hold one user.message, sent once the sandbox is ready.",
    query: betaQuerySchema,
    body: createManagedSessionSchema,
    responses: {
      200: { description: "The session", schema: managedSessionSchema },
      400: ainvalid,
      404: amissing,
    },
  }),
  managedGetSession: defineOperation({
    ...FACADE,
    id: "managedGetSession",
    auth: "viewer",
    resource: "session",
    method: "GET",
    path: `${SESSIONS}/{id}`,
    summary: "Get a session",
    params: resourceIdParamsSchema,
    query: managedSessionQuerySchema,
    responses: { 200: { description: "The session", schema: managedSessionSchema }, 404: amissing },
  }),
  managedUpdateSession: defineOperation({
    ...FACADE,
    id: "managedUpdateSession",
    auth: "operator",
    resource: "session",
    audit: "session.update",
    method: "POST",
    path: `${SESSIONS}/{id}`,
    summary: "Update a session's title or metadata",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    body: updateManagedSessionSchema,
    responses: {
      200: { description: "The session", schema: managedSessionSchema },
      400: ainvalid,
      404: amissing,
    },
  }),
  managedArchiveSession: defineOperation({
    ...FACADE,
    id: "managedArchiveSession",
    auth: "operator",
    resource: "session",
    audit: "session.archive",
    method: "POST",
    path: `${SESSIONS}/{id}/archive`,
    summary: "Archive a session: its sandbox stops; it and its events stay readable",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    responses: { 200: { description: "The session", schema: managedSessionSchema }, 404: amissing },
  }),
  managedDeleteSession: defineOperation({
    ...FACADE,
    id: "managedDeleteSession",
    auth: "operator",
    resource: "session",
    audit: "session.delete",
    method: "DELETE",
    path: `${SESSIONS}/{id}`,
    summary: "Delete a session: its sandbox stops, and it and its events are removed",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    responses: { 200: { description: "Deleted", schema: deletedSchema("session_deleted") }, 404: amissing },
  }),
  managedSendEvents: defineOperation({
    ...FACADE,
    id: "managedSendEvents",
    auth: "operator",
    resource: "session",
    method: "POST",
    path: `${SESSIONS}/{id}/events`,
    summary: "Send events: user.message, user.interrupt, user.tool_confirmation",
    description:
      "A message starts a turn (while the sandbox boots, one message waits for it); an interrupt " +
      "stops the running turn and answers once it has ended; a confirmation answers the permission " +
      "request of the tool use it names.",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    body: sendEventsSchema,
    responses: {
      200: { description: "The events as recorded", schema: sentEventsSchema },
      400: ainvalid,
      404: amissing,
      409: busy,
      410: aerr("The session has ended"),
    },
  }),
  managedListEvents: defineOperation({
    ...FACADE,
    id: "managedListEvents",
    auth: "viewer",
    resource: "session",
    method: "GET",
    path: `${SESSIONS}/{id}/events`,
    summary: "List the session's events (cursor pages, `order`, `types[]`)",
    params: resourceIdParamsSchema,
    query: managedEventListQuerySchema,
    responses: { 200: { description: "A page of events", schema: managedEventListSchema }, 404: amissing },
  }),
  managedStreamEvents: defineOperation({
    ...FACADE,
    id: "managedStreamEvents",
    auth: "viewer",
    resource: "session",
    method: "GET",
    path: `${SESSIONS}/{id}/events/stream`,
    summary: "Stream the session's events (server-sent events) from now on",
    description:
      "Each frame has `event: <type>`, `id: <event id>` and the event as `data`. Hangar's extension: " +
      "reconnect with `Last-Event-ID` (the last id seen) and every later event arrives exactly once, " +
      "including those sent while the client was away; `?after=<seq>` replays from a log position.",
    params: resourceIdParamsSchema,
    query: managedStreamQuerySchema,
    responses: { 200: { description: "Events, live", contentType: "text/event-stream" }, 404: amissing },
  }),
};
