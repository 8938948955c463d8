import { z } from "zod";

import { isoDateTimeSchema, pageOf, paginationQuerySchema } from "./common";
import { sessionEnvVarsSchema } from "./env-vars";
import { harnessIdSchema } from "./harness";

export const SESSION_STATUSES = ["creating", "ready", "dead", "failed"] as const;
export const SESSION_PHASES = [
  "creating_sandbox",
  "writing_files",
  "cloning_repo",
  "installing_deps",
  "starting_harness",
  "ready",
] as const;

export const sessionStatusSchema = z.enum(SESSION_STATUSES);
export const sessionPhaseSchema = z.enum(SESSION_PHASES);

/** POST /agents/{id}/session. Per-session env vars reach only the sandbox: never the database or logs. */
export const createSessionSchema = z.object({
  title: z.string().trim().max(200).optional(),
  initial_prompt: z
    .string()
    .max(256 * 1024)
    .optional(),
  env_vars: sessionEnvVarsSchema.default({}),
  skill_ids: z
    .array(z.string().min(1).max(64))
    .max(10)
    .refine((ids) => new Set(ids).size === ids.length, "skill_ids must not repeat an id")
    .default([]),
});

/** POST /sessions/{id}/restart: a new sandbox, same configuration; pass per-session env vars again. */
export const restartSessionSchema = z.object({ env_vars: sessionEnvVarsSchema.default({}) });

export const sessionSchema = z.object({
  id: z.string(),
  agent_id: z.string(),
  title: z.string().nullable(),
  status: sessionStatusSchema,
  phase: z.string().nullable(),
  phase_detail: z.string().nullable(),
  failure_reason: z.string().nullable(),
  harness_id: harnessIdSchema,
  model: z.string(),
  supports_tui: z.boolean(),
  tty_token: z.string().nullable().meta({
    description:
      "TUI sessions: a short-lived token that opens this session's terminal (and no other), renewed on each read.",
  }),
  tty_url: z.string().nullable().meta({
    description: "TUI sessions: the terminal's WebSocket path, token included (relative to Hangar's URL).",
  }),
  sandbox: z
    .object({
      driver: z.string(),
      isolation: z.enum(["namespaces", "container", "none"]),
      limits: z.string().optional(),
    })
    .nullable(),
  spawn_mode: z.enum(["warm", "cold"]).meta({
    description:
      "warm: the sandbox came from the warm pool, already booted, and was bound to this session when it was created; cold: booted for it.",
  }),
  timings: z.record(z.string(), z.number()).meta({ description: "Milliseconds per boot phase, and total." }),
  idle_timeout_ms: z.number().int(),
  created_at: isoDateTimeSchema,
  last_seen_at: isoDateTimeSchema,
  ready_at: isoDateTimeSchema.nullable(),
  stopped_at: isoDateTimeSchema.nullable(),
});

export const sessionListQuerySchema = paginationQuerySchema.extend({
  agent_id: z.string().min(1).max(64).optional(),
  status: sessionStatusSchema.optional(),
});

export const sessionListSchema = pageOf(sessionSchema);
export const sessionIdParamsSchema = z.object({ id: z.string().min(1).max(64) });

/** GET /sessions/{id}/tty's query: how to open the terminal WebSocket. */
export const terminalQuerySchema = z.object({
  /** A terminal token (`tty_token` of the session object), for clients that cannot send credentials. */
  token: z.string().max(400).optional(),
  /** `view`: watch read-only (a viewer always watches). */
  mode: z.enum(["view"]).optional(),
  /** `1`: JSON status frames as well (role, size, running). */
  meta: z.enum(["1"]).optional(),
  /** `shell`: a login shell in the sandbox instead of the harness's TUI (operator and up). */
  terminal: z.enum(["shell"]).optional(),
});

export const sessionEventSchema = z.object({
  seq: z.number().int(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
  at: isoDateTimeSchema,
});

export const sessionLogSchema = z.object({ data: z.array(sessionEventSchema) });

export const sessionLogQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

export const sandboxLogsQuerySchema = z.object({
  tail_lines: z.coerce.number().int().min(1).max(5000).default(500),
});

export type CreateSessionInput = z.infer<typeof createSessionSchema>;
export type Session = z.infer<typeof sessionSchema>;
export type SessionListQuery = z.infer<typeof sessionListQuerySchema>;
export type SessionEvent = z.infer<typeof sessionEventSchema>;
export type SessionStatus = z.infer<typeof sessionStatusSchema>;
