import { z } from "zod";

import { errorEnvelopeSchema } from "@/lib/schemas/common";
import { anthropicErrorSchema } from "@/lib/schemas/managed-common";

import type { Operation } from "./operation";
import { operations } from "./operations";

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}

function parameters(op: Operation) {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ["path", op.params],
    ["query", op.query],
  ] as const) {
    if (!schema) continue;
    const json = toSchema(schema, "input") as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      out.push({
        name,
        in: where,
        required: where === "path" || (json.required ?? []).includes(name),
        schema: prop,
      });
    }
  }
  return out;
}

function operationObject(op: Operation) {
  const responses = Object.fromEntries(
    Object.entries(op.responses).map(([status, spec]) => {
      const content = spec.schema
        ? { "application/json": { schema: toSchema(spec.schema, "output") } }
        : spec.contentType
          ? { [spec.contentType]: { schema: { type: "string", format: "binary" } } }
          : undefined;
      return [
        status,
        content ? { description: spec.description, content } : { description: spec.description },
      ];
    }),
  );
  // The Managed Agents API facade answers in Anthropic's envelope (lib/api/anthropic-errors.ts).
  const envelope = op.envelope === "anthropic" ? "AnthropicError" : "Error";
  const error = { "application/json": { schema: { $ref: `#/components/schemas/${envelope}` } } };
  if (op.auth !== "none") {
    responses["401"] = { description: "Missing, wrong, revoked or expired credentials", content: error };
  }
  if (op.auth !== "none" && op.auth !== "signed_in" && !responses["403"]) {
    responses["403"] = { description: `The caller's role is below ${op.auth}`, content: error };
  }
  const access =
    op.auth === "none"
      ? "Open: no credentials."
      : op.auth === "signed_in"
        ? "Any signed-in caller."
        : `Needs the **${op.auth}** role (or higher) in the workspace.`;
  return {
    operationId: op.id,
    tags: [op.tag],
    summary: op.summary,
    description: op.description ? `${op.description}\n\n${access}` : access,
    "x-hangar-access": op.auth,
    ...(op.auth === "none" ? { security: [] } : {}),
    parameters: parameters(op),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: toSchema(op.body, "input") } },
          },
        }
      : {}),
    responses,
  };
}

let cached: JsonSchema | null = null;

/** The OpenAPI 3.1 document, generated from the operation table and its zod schemas. */
export function buildOpenApiDocument(): JsonSchema {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of Object.values(operations) as Operation[]) {
    (paths[op.path] ??= {})[op.method.toLowerCase()] = operationObject(op);
  }
  cached = {
    openapi: "3.1.0",
    info: {
      title: "Hangar API",
      version: "1",
      description:
        "Agents, skills, sessions and terminals, in workspaces. Every route but the open ones needs " +
        "credentials: an API key (`hgr_…`, as `Authorization: Bearer` or `x-api-key`), a browser login " +
        "cookie, or the master key (the bootstrap administrator; it picks a workspace with the " +
        "`Hangar-Workspace` header, the default workspace without it). Each operation says the least " +
        "role it needs (viewer < operator < admin, `x-hangar-access`); another workspace's ids answer " +
        '404. Errors share one envelope: `{"error": {"code", "message", "issues"?}}`.',
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }, { apiKeyHeader: [] }, { cookie: [] }],
    tags: [
      { name: "Agents" },
      { name: "Sessions" },
      { name: "Skills" },
      { name: "Auth" },
      { name: "Teams" },
      { name: "Platform" },
      {
        name: "Managed Agents API",
        description:
          "Anthropic's Managed Agents API (beta `managed-agents-2026-04-01`) at `/v1`, so its official " +
          "SDKs work with `baseURL` set to Hangar: a view of the same agents and sessions. Errors use " +
          'Anthropic\'s envelope, `{"type": "error", "error": {"type", "message"}, "request_id"}`. ' +
          "See docs/managed-agents.md for what maps and what does not.",
      },
    ],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API key (hgr_…) or the MASTER_KEY" },
        apiKeyHeader: { type: "apiKey", in: "header", name: "x-api-key", description: "An API key (hgr_…)" },
        cookie: { type: "apiKey", in: "cookie", name: "hangar_session", description: "A browser login" },
      },
      schemas: {
        Error: toSchema(errorEnvelopeSchema, "output"),
        AnthropicError: toSchema(anthropicErrorSchema, "output"),
      },
    },
  };
  return cached;
}
