import { z } from "zod";

export const modelSchema = z.object({
  id: z.string(),
  owned_by: z.string().nullable(),
});

/**
 * GET /api/v1/models. `source` "builtin" is Hangar's scripted test model, used when no gateway is
 * configured; `reason` explains it, or an empty list (the gateway failed).
 */
export const modelListSchema = z.object({
  data: z.array(modelSchema),
  source: z.enum(["gateway", "builtin", "none"]),
  /** Host name of the model gateway, which sandboxes may always reach. */
  gateway_host: z.string().nullable(),
  reason: z.string().nullable(),
});

export type Model = z.infer<typeof modelSchema>;
export type ModelList = z.infer<typeof modelListSchema>;

/** GET /api/v1/model_gateway/requests: what the built-in test model was asked (for tests and debugging). */
export const gatewayRequestListQuerySchema = z.object({ session_id: z.string().min(1).max(64).optional() });

export const gatewayRequestSchema = z.looseObject({
  id: z.number().int(),
  time: z.string(),
  session: z.string().nullable(),
  api: z.string(),
  path: z.string(),
  model: z.string().nullable(),
  stream: z.boolean(),
  system: z.string(),
  userText: z.string(),
  tools: z.array(z.string()),
  directives: z.array(z.string()),
  status: z.number().int(),
});

export const gatewayRequestListSchema = z.object({
  builtin: z.boolean(),
  data: z.array(gatewayRequestSchema),
});
