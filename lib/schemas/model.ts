import { z } from "zod";

export const modelSchema = z.object({
  id: z.string(),
  owned_by: z.string().nullable(),
});

/** GET /api/v1/models. `reason` explains an empty list (no gateway, or the gateway failed). */
export const modelListSchema = z.object({
  data: z.array(modelSchema),
  source: z.enum(["gateway", "none"]),
  /** Host name of the model gateway, which sandboxes may always reach. */
  gateway_host: z.string().nullable(),
  reason: z.string().nullable(),
});

export type Model = z.infer<typeof modelSchema>;
export type ModelList = z.infer<typeof modelListSchema>;
