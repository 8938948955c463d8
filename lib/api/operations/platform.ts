import { z } from "zod";

import { authSessionSchema, loginSchema } from "@/lib/schemas/auth";
import { healthSchema } from "@/lib/schemas/health";
import {
  gatewayRequestListQuerySchema,
  gatewayRequestListSchema,
  modelListSchema,
} from "@/lib/schemas/model";

import { defineOperation } from "../operation";
import { err, invalid } from "./responses";

/** The platform itself: health, login, this document, and the model gateway. */
export const platformOperations = {
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
    auth: "signed_in",
    audit: "auth.logout",
    method: "POST",
    path: "/api/v1/auth/logout",
    tag: "Auth",
    summary: "End this browser session (the cookie stops working everywhere)",
    responses: { 204: { description: "Logged out; the cookie is cleared" } },
  }),
  getAuthSession: defineOperation({
    id: "getAuthSession",
    auth: "signed_in",
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
    summary: "This API description (OpenAPI 3.1; public, like the /docs/api page that renders it)",
    auth: "none",
    responses: { 200: { description: "OpenAPI document", schema: z.record(z.string(), z.unknown()) } },
  }),
  listModels: defineOperation({
    id: "listModels",
    auth: "viewer",
    method: "GET",
    path: "/api/v1/models",
    tag: "Platform",
    summary: "Models the configured model gateway offers",
    description:
      "Reads `LITELLM_API_BASE/v1/models` with the platform's key (which never leaves the server). " +
      "With no gateway configured, or when the gateway fails, `data` is empty and `reason` says why.",
    responses: { 200: { description: "Model list", schema: modelListSchema } },
  }),
  listGatewayRequests: defineOperation({
    id: "listGatewayRequests",
    auth: "admin",
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
};
