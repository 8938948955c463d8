import { z } from "zod";

import {
  isoDateTimeSchema,
  pageOf,
  paginationQuerySchema,
  searchQuerySchema,
  sortOrderSchema,
} from "./common";
import { egressRulesSchema } from "./egress";
import { envVarsSchema } from "./env-vars";
import { harnessIdSchema } from "./harness";
import { sandboxFileSchema, sandboxFilesInputSchema, sandboxFilesUpdateSchema } from "./sandbox-file";
import { skillCreateFields, skillSchema } from "./skill";

export const PROMPT_MAX = 256 * 1024;

/** A git branch name that is safe to hand to git: no option-like or climbing names. */
export function branchProblem(branch: string): string | null {
  if (branch.startsWith("-")) return "must not start with -";
  if (branch.includes("..") || branch.includes("@{")) return "must not contain .. or @{";
  if (branch.endsWith("/") || branch.endsWith(".") || branch.endsWith(".lock"))
    return "has an invalid ending";
  if (!/^[A-Za-z0-9._/+-]+$/.test(branch)) return "may contain letters, digits and . _ / + - only";
  return null;
}

/** Problems with a repository URL, or null: https only, and no credentials stored in the URL. */
export function repoUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a valid URL such as https://github.com/org/repo";
  }
  if (url.protocol !== "https:") return "must use https";
  if (url.username || url.password) return "must not embed credentials; pass a token as a session env var";
  return null;
}

function fromProblem(check: (value: string) => string | null) {
  return (value: string, ctx: z.RefinementCtx) => {
    const problem = check(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  };
}

const modelSchema = z
  .string()
  .trim()
  .min(1, "model is required, e.g. anthropic/claude-sonnet-4-6")
  .max(256)
  .regex(/^\S*$/, "model must not contain spaces");

const agentFields = {
  name: z.string().trim().max(128).nullable(),
  prompt: z.string().max(PROMPT_MAX).nullable(),
  requirements: z
    .string()
    .max(64 * 1024)
    .nullable(),
  repo_url: z.string().max(2048).superRefine(fromProblem(repoUrlProblem)).nullable(),
  branch: z.string().min(1).max(255).superRefine(fromProblem(branchProblem)),
  pfp_url: z
    .string()
    .max(512 * 1024)
    .nullable(),
  mcp_servers: z.array(z.string().trim().min(1).max(512)).max(50),
  allow_out: egressRulesSchema,
  deny_out: egressRulesSchema,
  env_vars: envVarsSchema,
  skill_ids: z
    .array(z.string().min(1).max(64))
    .max(50)
    .refine((ids) => new Set(ids).size === ids.length, "skill_ids must not repeat an id"),
};

/** POST /api/v1/managed_agents/agents: the wire contract of the seed, field by field. */
export const createAgentSchema = z.object({
  model: modelSchema,
  name: agentFields.name.optional(),
  prompt: agentFields.prompt.optional(),
  harness_id: harnessIdSchema.default("opencode"),
  requirements: agentFields.requirements.optional(),
  repo_url: agentFields.repo_url.optional(),
  branch: agentFields.branch.default("main"),
  pfp_url: agentFields.pfp_url.optional(),
  mcp_servers: agentFields.mcp_servers.default([]),
  allow_out: agentFields.allow_out.default([]),
  deny_out: agentFields.deny_out.default([]),
  env_vars: agentFields.env_vars.default({}),
  skill_ids: agentFields.skill_ids.default([]),
  sandbox_files: sandboxFilesInputSchema.default([]),
});

/**
 * PATCH /agents/{id}: every field optional. `env_vars` and `sandbox_files` replace the whole set;
 * a value equal to the mask keeps the stored secret, and a file given by `sha256` keeps its bytes.
 * `skill_ids` sets exactly which skills are attached (already attached ones keep their snapshot).
 */
export const updateAgentSchema = z.object({
  model: modelSchema.optional(),
  name: agentFields.name.optional(),
  prompt: agentFields.prompt.optional(),
  harness_id: harnessIdSchema.optional(),
  requirements: agentFields.requirements.optional(),
  repo_url: agentFields.repo_url.optional(),
  branch: agentFields.branch.optional(),
  pfp_url: agentFields.pfp_url.optional(),
  mcp_servers: agentFields.mcp_servers.optional(),
  allow_out: agentFields.allow_out.optional(),
  deny_out: agentFields.deny_out.optional(),
  env_vars: agentFields.env_vars.optional(),
  skill_ids: agentFields.skill_ids.optional(),
  sandbox_files: sandboxFilesUpdateSchema.optional(),
  expected_version: z.number().int().min(1).optional(),
});

/**
 * The agent builder's form: the create contract, except that files may also be stored ones kept by
 * sha256 (on edit). Create and edit share it; the pages turn it into a POST or a PATCH.
 */
export const agentFormSchema = createAgentSchema.extend({
  sandbox_files: sandboxFilesUpdateSchema.default([]),
});

export const agentSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  model: z.string(),
  prompt: z.string().nullable(),
  harness_id: harnessIdSchema,
  supports_tui: z.boolean(),
  requirements: z.string().nullable(),
  repo_url: z.string().nullable(),
  branch: z.string(),
  pfp_url: z.string().nullable(),
  mcp_servers: z.array(z.string()),
  env_vars: z.record(z.string(), z.string()).meta({ description: "Values are always masked." }),
  attached_skill_ids: z.array(z.string()),
  allow_out: z.array(z.string()),
  deny_out: z.array(z.string()),
  sandbox_files: z.array(sandboxFileSchema),
  version: z.number().int(),
  created_at: isoDateTimeSchema,
  updated_at: isoDateTimeSchema,
});

export const AGENT_SORT_FIELDS = ["created_at", "updated_at", "name", "model", "harness_id"] as const;

export const agentListQuerySchema = paginationQuerySchema.extend({
  sort: z.enum(AGENT_SORT_FIELDS).default("created_at"),
  order: sortOrderSchema,
  search: searchQuerySchema,
});

/** List items also say how many sessions the agent has had and whether one is live. */
export const agentListItemSchema = agentSchema.extend({
  session_count: z.number().int(),
  has_active_session: z.boolean(),
});

export const agentListSchema = pageOf(agentListItemSchema);

export const agentIdParamsSchema = z.object({ id: z.string().min(1).max(64) });

export const agentFileParamsSchema = agentIdParamsSchema.extend({
  index: z.coerce.number().int().min(0).max(1000),
});

/** POST /agents/{id}/skill: attach a library skill, or write a new one inline. */
export const attachSkillSchema = z.union(
  [
    z.object({ skill_id: z.string().min(1).max(64) }),
    z.object({ ...skillCreateFields, save_to_library: z.boolean().default(true) }),
  ],
  { error: () => "send {skill_id} to attach a library skill, or {name, content} to write one inline" },
);

/** POST /agents/{id}/skill answers with the agent and the skill (null when not saved to the library). */
export const attachSkillResultSchema = z.object({ agent: agentSchema, skill: skillSchema.nullable() });
export const detachSkillResultSchema = z.object({ agent: agentSchema });

export const detachSkillQuerySchema = z.object({ skill_id: z.string().min(1).max(64).optional() });

export type CreateAgentInput = z.infer<typeof createAgentSchema>;
export type AgentFormInput = z.input<typeof agentFormSchema>;
export type AgentFormValues = z.output<typeof agentFormSchema>;
export type UpdateAgentInput = z.infer<typeof updateAgentSchema>;
export type Agent = z.infer<typeof agentSchema>;
export type AgentListItem = z.infer<typeof agentListItemSchema>;
export type AgentListQuery = z.infer<typeof agentListQuerySchema>;
export type AttachSkillInput = z.infer<typeof attachSkillSchema>;
