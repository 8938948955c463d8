import {
  createEnvironmentSchema,
  environmentListQuerySchema,
  environmentListSchema,
  environmentQuerySchema,
  environmentSchema,
  updateEnvironmentSchema,
} from "@/lib/schemas/environment";
import {
  createManagedAgentSchema,
  managedAgentListQuerySchema,
  managedAgentListSchema,
  managedAgentQuerySchema,
  managedAgentSchema,
  updateManagedAgentSchema,
} from "@/lib/schemas/managed-agent";
import {
  betaQuerySchema,
  cursorQuerySchema,
  deletedSchema,
  resourceIdParamsSchema,
} from "@/lib/schemas/managed-common";

import { defineOperation } from "../operation";
import { aerr, ainvalid, amissing, FACADE } from "./managed-responses";

/*
 * The Managed Agents API facade (Anthropic's /v1 wire format; docs/managed-agents.md): agents and
 * environments. Updates are POSTs to the resource, as Anthropic's SDKs send them.
 */

const AGENTS = "/v1/agents";
const ENVIRONMENTS = "/v1/environments";

export const managedAgentOperations = {
  managedListAgents: defineOperation({
    ...FACADE,
    id: "managedListAgents",
    auth: "viewer",
    method: "GET",
    path: AGENTS,
    summary: "List agents (newest first, cursor pages)",
    query: managedAgentListQuerySchema,
    responses: { 200: { description: "A page of agents", schema: managedAgentListSchema }, 400: ainvalid },
  }),
  managedCreateAgent: defineOperation({
    ...FACADE,
    id: "managedCreateAgent",
    auth: "admin",
    audit: "agent.create",
    method: "POST",
    path: AGENTS,
    summary: "Create an agent",
    description:
      "`harness_id` (Hangar's extension, default `claude-agent-sdk`) picks the harness. A bare " +
      "`claude-…` model name means the Anthropic provider. Custom tools and Anthropic-hosted skills " +
      "answer 400.",
    query: betaQuerySchema,
    body: createManagedAgentSchema,
    responses: {
      200: { description: "The agent", schema: managedAgentSchema },
      400: ainvalid,
      404: aerr("A skill does not exist"),
    },
  }),
  managedGetAgent: defineOperation({
    ...FACADE,
    id: "managedGetAgent",
    auth: "viewer",
    resource: "agent",
    method: "GET",
    path: `${AGENTS}/{id}`,
    summary: "Get an agent, or one of its versions (`?version=`)",
    params: resourceIdParamsSchema,
    query: managedAgentQuerySchema,
    responses: { 200: { description: "The agent", schema: managedAgentSchema }, 404: amissing },
  }),
  managedUpdateAgent: defineOperation({
    ...FACADE,
    id: "managedUpdateAgent",
    auth: "admin",
    resource: "agent",
    audit: "agent.update",
    method: "POST",
    path: `${AGENTS}/{id}`,
    summary: "Update an agent",
    description: "Omitted fields are kept. `version` makes a stale update fail with 409 (not retried).",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    body: updateManagedAgentSchema,
    responses: {
      200: { description: "The agent", schema: managedAgentSchema },
      400: ainvalid,
      404: amissing,
      409: aerr("`version` is not the agent's current version"),
    },
  }),
  managedArchiveAgent: defineOperation({
    ...FACADE,
    id: "managedArchiveAgent",
    auth: "admin",
    resource: "agent",
    audit: "agent.archive",
    method: "POST",
    path: `${AGENTS}/{id}/archive`,
    summary: "Archive an agent (no new sessions; hidden from lists unless include_archived)",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    responses: { 200: { description: "The agent", schema: managedAgentSchema }, 404: amissing },
  }),
  managedListAgentVersions: defineOperation({
    ...FACADE,
    id: "managedListAgentVersions",
    auth: "viewer",
    resource: "agent",
    method: "GET",
    path: `${AGENTS}/{id}/versions`,
    summary: "The agent's versions, newest first",
    params: resourceIdParamsSchema,
    query: cursorQuerySchema,
    responses: { 200: { description: "A page of versions", schema: managedAgentListSchema }, 404: amissing },
  }),
  managedListEnvironments: defineOperation({
    ...FACADE,
    id: "managedListEnvironments",
    auth: "viewer",
    method: "GET",
    path: ENVIRONMENTS,
    summary: "List environments (newest first, cursor pages)",
    query: environmentListQuerySchema,
    responses: {
      200: { description: "A page of environments", schema: environmentListSchema },
      400: ainvalid,
    },
  }),
  managedCreateEnvironment: defineOperation({
    ...FACADE,
    id: "managedCreateEnvironment",
    auth: "admin",
    audit: "environment.create",
    method: "POST",
    path: ENVIRONMENTS,
    summary: "Create an environment",
    description:
      "`config.networking` limited: the sandbox reaches only `allowed_hosts` (plus the package " +
      "registries and the agent's MCP hosts when allowed), enforced by the egress proxy. " +
      "`config.packages.pip` is installed at boot; other package managers answer 400.",
    query: betaQuerySchema,
    body: createEnvironmentSchema,
    responses: { 200: { description: "The environment", schema: environmentSchema }, 400: ainvalid },
  }),
  managedGetEnvironment: defineOperation({
    ...FACADE,
    id: "managedGetEnvironment",
    auth: "viewer",
    resource: "environment",
    method: "GET",
    path: `${ENVIRONMENTS}/{id}`,
    summary: "Get an environment",
    params: resourceIdParamsSchema,
    query: environmentQuerySchema,
    responses: { 200: { description: "The environment", schema: environmentSchema }, 404: amissing },
  }),
  managedUpdateEnvironment: defineOperation({
    ...FACADE,
    id: "managedUpdateEnvironment",
    auth: "admin",
    resource: "environment",
    audit: "environment.update",
    method: "POST",
    path: `${ENVIRONMENTS}/{id}`,
    summary: "Update an environment (new sessions take the change)",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    body: updateEnvironmentSchema,
    responses: {
      200: { description: "The environment", schema: environmentSchema },
      400: ainvalid,
      404: amissing,
    },
  }),
  managedArchiveEnvironment: defineOperation({
    ...FACADE,
    id: "managedArchiveEnvironment",
    auth: "admin",
    resource: "environment",
    audit: "environment.archive",
    method: "POST",
    path: `${ENVIRONMENTS}/{id}/archive`,
    summary: "Archive an environment (no new sessions)",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    responses: { 200: { description: "The environment", schema: environmentSchema }, 404: amissing },
  }),
  managedDeleteEnvironment: defineOperation({
    ...FACADE,
    id: "managedDeleteEnvironment",
    auth: "admin",
    resource: "environment",
    audit: "environment.delete",
    method: "DELETE",
    path: `${ENVIRONMENTS}/{id}`,
    summary: "Delete an environment (sessions made in it keep running)",
    params: resourceIdParamsSchema,
    query: betaQuerySchema,
    responses: {
      200: { description: "Deleted", schema: deletedSchema("environment_deleted") },
      404: amissing,
    },
  }),
};
