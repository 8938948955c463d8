import { z } from "zod";

import { isoDateTimeSchema } from "./common";

/** POST /api/v1/auth/login: the master key, traded for an HttpOnly session cookie. */
export const loginSchema = z.object({
  master_key: z.string().min(1, "Paste the master key").max(1024),
});

export const authSessionSchema = z.object({
  kind: z.enum(["master", "browser"]),
  expires_at: isoDateTimeSchema.nullable(),
});

export type LoginInput = z.infer<typeof loginSchema>;
export type AuthSession = z.infer<typeof authSessionSchema>;
