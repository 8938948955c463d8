import { z } from "zod";

/** GET /api/v1/health: the one answer that needs no key. */
export const healthSchema = z.object({ ok: z.literal(true), database: z.string() });
