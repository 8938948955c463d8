import { z } from "zod";

import { harnessIdSchema } from "./harness";
import {
  betaQuerySchema,
  cursorPageOf,
  cursorQuerySchema,
  lifecycleFields,
  metadataPatchSchema,
  metadataSchema,
} from "./managed-common";

/*
 * Agents as the Managed Agents API (/v1/agents) shows them: a view of Hangar's agent (`system` is
 * its prompt without skill blocks, `skills` its attached skills) plus the fields only this API has
 * (description, metadata, toolsets). `harness_id` is Hangar's extension: which harness runs it.
 */

export const AGENT_TOOL_NAMES = [
  "bash",
  "edit",
  "read",
  "write",
  "glob",
  "grep",
  "web_fetch",
  "web_search",
] as const;
export type AgentToolName = (typeof AGENT_TOOL_NAMES)[number];

export const permissionPolicySchema = z.object({ type: z.enum(["always_allow", "always_ask", "auto"]) });
export type PermissionPolicy = z.infer<typeof permissionPolicySchema>;

const defaultConfigInput = z
  .object({ enabled: z.boolean().nullish(), permission_policy: permissionPolicySchema.nullish() })
  .nullish();

const agentToolsetInput = z.object({
  type: z.literal("agent_toolset_20260401"),
  default_config: defaultConfigInput,
  configs: z
    .array(
      z.looseObject({
        name: z.enum(AGENT_TOOL_NAMES),
        type: z.enum(AGENT_TOOL_NAMES).optional(),
        enabled: z.boolean().nullish(),
        permission_policy: permissionPolicySchema.nullish(),
      }),
    )
    .max(AGENT_TOOL_NAMES.length)
    .optional(),
});

const mcpToolsetInput = z.object({
  type: z.literal("mcp_toolset"),
  mcp_server_name: z.string().min(1).max(64),
  default_config: defaultConfigInput,
  configs: z
    .array(
      z.object({
        name: z.string().min(1).max(128),
        enabled: z.boolean().nullish(),
        permission_policy: permissionPolicySchema.nullish(),
      }),
    )
    .max(200)
    .optional(),
});

const customToolInput = z.object({
  type: z.literal("custom"),
  name: z.string(),
  description: z.string(),
  input_schema: z.record(z.string(), z.unknown()),
});

export const toolsInputSchema = z
  .array(z.discriminatedUnion("type", [agentToolsetInput, mcpToolsetInput, customToolInput]))
  .max(20)
  .superRefine((tools, ctx) => {
    tools.forEach((tool, i) => {
      if (tool.type === "custom") {
        ctx.addIssue({
          code: "custom",
          path: [i],
          message: "custom tools are not supported: Hangar's harnesses run their own tools in the sandbox",
        });
      }
    });
  });

const toolConfig = z.object({ enabled: z.boolean(), permission_policy: permissionPolicySchema });

/** A toolset as stored and answered: defaults filled in, custom tools refused at input. */
export const managedToolsetSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("agent_toolset_20260401"),
    default_config: toolConfig,
    configs: z.array(toolConfig.extend({ name: z.enum(AGENT_TOOL_NAMES), type: z.enum(AGENT_TOOL_NAMES) })),
  }),
  z.object({
    type: z.literal("mcp_toolset"),
    mcp_server_name: z.string(),
    default_config: toolConfig,
    configs: z.array(toolConfig.extend({ name: z.string() })),
  }),
]);

export type ManagedToolset = z.infer<typeof managedToolsetSchema>;
export type ToolsInput = z.infer<typeof toolsInputSchema>;

const modelIdSchema = z.string().trim().min(1).max(256).regex(/^\S*$/, "model must not contain spaces");

export const managedModelInputSchema = z.union([
  modelIdSchema,
  z.object({
    id: modelIdSchema,
    effort: z.unknown().optional(),
    speed: z.enum(["standard", "fast"]).nullish(),
    inference_geo: z.string().nullish(),
  }),
]);

const mcpServerInput = z.object({
  type: z.literal("url"),
  name: z.string().trim().min(1).max(64),
  url: z.url({ protocol: /^https?$/ }).max(512),
});

const skillInput = z.object({
  type: z.enum(["custom", "anthropic"]),
  skill_id: z.string().min(1).max(64),
  version: z.string().max(32).nullish(),
});

const unsupported = (what: string) =>
  z
    .unknown()
    .optional()
    .refine((v) => v === undefined || v === null, `${what} is not supported by Hangar`);

export const createManagedAgentSchema = z.object({
  name: z.string().trim().min(1).max(256),
  model: managedModelInputSchema,
  description: z.string().max(2048).nullish(),
  system: z
    .string()
    .max(256 * 1024)
    .nullish(),
  mcp_servers: z.array(mcpServerInput).max(20).optional(),
  skills: z.array(skillInput).max(20).optional(),
  tools: toolsInputSchema.optional(),
  metadata: metadataSchema.optional(),
  harness_id: harnessIdSchema.default("claude-agent-sdk"),
  multiagent: unsupported("multiagent"),
  execution_identity: z.object({ type: z.literal("service_account") }).nullish(),
});

export const updateManagedAgentSchema = z.object({
  name: z.string().trim().min(1).max(256).optional(),
  model: managedModelInputSchema.optional(),
  description: z.string().max(2048).nullish(),
  system: z
    .string()
    .max(256 * 1024)
    .nullish(),
  mcp_servers: z.array(mcpServerInput).max(20).nullish(),
  skills: z.array(skillInput).max(20).nullish(),
  tools: toolsInputSchema.nullish(),
  metadata: metadataPatchSchema.nullish(),
  harness_id: harnessIdSchema.optional(),
  version: z.number().int().min(1).optional(),
  multiagent: unsupported("multiagent"),
  execution_identity: z.object({ type: z.literal("service_account") }).nullish(),
});

export type CreateManagedAgentInput = z.infer<typeof createManagedAgentSchema>;
export type UpdateManagedAgentInput = z.infer<typeof updateManagedAgentSchema>;

export const managedAgentSchema = z.object({
  id: z.string(),
  type: z.literal("agent"),
  name: z.string(),
  description: z.string().nullable(),
  system: z.string().nullable(),
  model: z.object({ id: z.string(), speed: z.literal("standard") }),
  mcp_servers: z.array(z.object({ type: z.literal("url"), name: z.string(), url: z.string() })),
  skills: z.array(z.object({ type: z.literal("custom"), skill_id: z.string(), version: z.string() })),
  tools: z.array(managedToolsetSchema),
  metadata: z.record(z.string(), z.string()),
  execution_identity: z.object({ type: z.literal("service_account") }),
  multiagent: z.null(),
  harness_id: harnessIdSchema.meta({ description: "Hangar's extension: the harness that runs the agent." }),
  version: z.number().int(),
  ...lifecycleFields,
});

export type ManagedAgent = z.infer<typeof managedAgentSchema>;

export const managedAgentListQuerySchema = cursorQuerySchema;
export const managedAgentListSchema = cursorPageOf(managedAgentSchema);
export const managedAgentQuerySchema = betaQuerySchema.extend({
  version: z.coerce.number().int().min(1).optional(),
});
