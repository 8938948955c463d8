import { z } from "zod";

import { isoDateTimeSchema } from "./common";
import { managedAgentSchema } from "./managed-agent";
import {
  betaQuerySchema,
  cursorQuerySchema,
  lifecycleFields,
  metadataPatchSchema,
  metadataSchema,
} from "./managed-common";

/*
 * Sessions and their events as the Managed Agents API (/v1/sessions) shows them: views of Hangar's
 * session and its event log (lib/managed/events.ts maps one onto the other).
 */

const textBlock = z.object({ type: z.literal("text"), text: z.string().max(256 * 1024) });

export const userMessageInputSchema = z.object({
  type: z.literal("user.message"),
  content: z
    .array(
      z.discriminatedUnion("type", [
        textBlock,
        z.looseObject({ type: z.literal("image") }),
        z.looseObject({ type: z.literal("document") }),
      ]),
    )
    .min(1)
    .max(50)
    .superRefine((blocks, ctx) => {
      blocks.forEach((block, i) => {
        if (block.type !== "text") {
          ctx.addIssue({
            code: "custom",
            path: [i, "type"],
            message: `${block.type} blocks are not supported yet; send text`,
          });
        }
      });
      if (!blocks.some((b) => b.type === "text" && b.text.trim())) {
        ctx.addIssue({ code: "custom", message: "send some text" });
      }
    }),
});

const checkout = z.discriminatedUnion("type", [
  z.object({ type: z.literal("branch"), name: z.string().min(1).max(255) }),
  z.object({ type: z.literal("commit"), sha: z.string().regex(/^[0-9a-f]{7,40}$/i) }),
]);

const githubResource = z.object({
  type: z.literal("github_repository"),
  url: z.string().max(2048),
  authorization_token: z.string().max(4096).optional(),
  checkout: checkout.nullish(),
  mount_path: z.string().max(1024).nullish(),
});

const agentRef = z.union([
  z.string().min(1).max(64),
  z.object({
    type: z.literal("agent"),
    id: z.string().min(1).max(64),
    version: z.number().int().min(1).optional(),
  }),
  z.looseObject({ type: z.literal("agent_with_overrides") }),
]);

export const createManagedSessionSchema = z.object({
  agent: agentRef,
  environment_id: z.string().min(1).max(64),
  title: z.string().trim().max(200).nullish(),
  metadata: metadataSchema.optional(),
  resources: z
    .array(
      z.discriminatedUnion("type", [
        githubResource,
        z.looseObject({ type: z.enum(["file", "memory_store"]) }),
      ]),
    )
    .max(1)
    .optional(),
  vault_ids: z.array(z.string().min(1).max(64)).max(20).optional(),
  initial_events: z.array(userMessageInputSchema).max(1).optional(),
  budget: z
    .unknown()
    .optional()
    .refine((v) => v === undefined || v === null, "budgets are not supported by Hangar yet"),
});

export const updateManagedSessionSchema = z.object({
  title: z.string().trim().max(200).nullish(),
  metadata: metadataPatchSchema.nullish(),
  vault_ids: z
    .array(z.string())
    .optional()
    .refine((v) => v === undefined, "a session's vaults are set when it is created; create a new session"),
});

export type CreateManagedSessionInput = z.infer<typeof createManagedSessionSchema>;
export type UpdateManagedSessionInput = z.infer<typeof updateManagedSessionSchema>;

export const MANAGED_SESSION_STATUSES = ["rescheduling", "running", "idle", "terminated"] as const;
export type ManagedSessionStatus = (typeof MANAGED_SESSION_STATUSES)[number];

export const managedSessionSchema = z.object({
  id: z.string(),
  type: z.literal("session"),
  agent: managedAgentSchema.omit({ created_at: true, updated_at: true, archived_at: true, metadata: true }),
  environment_id: z.string(),
  title: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  status: z.enum(MANAGED_SESSION_STATUSES),
  resources: z.array(z.record(z.string(), z.unknown())),
  vault_ids: z.array(z.string()),
  stats: z.object({ duration_seconds: z.number().optional(), active_seconds: z.number().optional() }),
  usage: z.object({
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    cache_read_input_tokens: z.number().int(),
  }),
  budget: z.null(),
  outcome_evaluations: z.array(z.never()),
  hangar_session_id: z
    .string()
    .meta({ description: "Hangar's extension: the same session at /api/v1/managed_agents/sessions/{id}." }),
  ...lifecycleFields,
});

export type ManagedSession = z.infer<typeof managedSessionSchema>;

export const managedSessionListQuerySchema = cursorQuerySchema.extend({
  agent_id: z.string().max(64).optional(),
  order: z.enum(["asc", "desc"]).default("desc"),
  statuses: z
    .union([z.enum(MANAGED_SESSION_STATUSES), z.array(z.enum(MANAGED_SESSION_STATUSES)).max(4)])
    .optional(),
});

export type ManagedSessionListQuery = z.infer<typeof managedSessionListQuerySchema>;

export const managedSessionListSchema = z.object({
  data: z.array(managedSessionSchema),
  next_page: z.string().nullable(),
  prev_page: z.string().nullable(),
});

export const managedSessionQuerySchema = betaQuerySchema;

/** POST /v1/sessions/{id}/events. */
export const sendEventsSchema = z.object({
  events: z
    .array(
      z.discriminatedUnion("type", [
        userMessageInputSchema,
        z.object({ type: z.literal("user.interrupt"), session_thread_id: z.string().nullish() }),
        z.object({
          type: z.literal("user.tool_confirmation"),
          tool_use_id: z.string().min(1).max(200),
          result: z.enum(["allow", "deny"]),
          deny_message: z.string().max(4096).nullish(),
        }),
        z.looseObject({ type: z.literal("user.custom_tool_result") }),
      ]),
    )
    .min(1)
    .max(20)
    .superRefine((events, ctx) => {
      events.forEach((event, i) => {
        if (event.type === "user.custom_tool_result") {
          ctx.addIssue({
            code: "custom",
            path: [i, "type"],
            message: "custom tools are not supported by Hangar",
          });
        }
      });
    }),
});

export type SendEventsInput = z.infer<typeof sendEventsSchema>;

/** A facade event: `id`, `type`, `processed_at` and the fields its type carries. */
export const managedEventSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  processed_at: isoDateTimeSchema.nullable(),
});

export type ManagedEvent = z.infer<typeof managedEventSchema>;

export const managedEventListQuerySchema = cursorQuerySchema.extend({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  order: z.enum(["asc", "desc"]).default("asc"),
  types: z.union([z.string(), z.array(z.string())]).optional(),
});

export const managedEventListSchema = z.object({
  data: z.array(managedEventSchema),
  next_page: z.string().nullable(),
});
export const sentEventsSchema = z.object({ data: z.array(managedEventSchema) });
export const managedStreamQuerySchema = betaQuerySchema.extend({
  event_deltas: z.union([z.string(), z.array(z.string())]).optional(),
  after: z.coerce.number().int().min(0).optional(),
});
