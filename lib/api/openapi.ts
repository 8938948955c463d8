import { z } from "zod";

import { errorEnvelopeSchema } from "@/lib/schemas/common";

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
  if (op.auth !== "none") {
    responses["401"] = {
      description: "Missing or wrong master key",
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return {
    operationId: op.id,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
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
        "Agents, skills, sessions and terminals. Every route but /api/v1/health needs " +
        "`Authorization: Bearer <MASTER_KEY>`. Errors share one envelope: " +
        '`{"error": {"code", "message", "issues"?}}`.',
    },
    servers: [{ url: "/" }],
    security: [{ masterKey: [] }],
    tags: [
      { name: "Agents" },
      { name: "Sessions" },
      { name: "Skills" },
      { name: "Auth" },
      { name: "Platform" },
    ],
    paths,
    components: {
      securitySchemes: { masterKey: { type: "http", scheme: "bearer", description: "The MASTER_KEY" } },
      schemas: {
        Error: toSchema(errorEnvelopeSchema, "output"),
      },
    },
  };
  return cached;
}
