import { z } from "zod";

import { isoDateTimeSchema } from "./common";
import { workspaceRoleSchema } from "./roles";

export const emailSchema = z.string().trim().toLowerCase().max(254).email("enter an email address");

export const PASSWORD_MIN = 10;

export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN, `use at least ${PASSWORD_MIN} characters`)
  .max(256, "use at most 256 characters");

export const memberSchema = z.object({
  user_id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  role: workspaceRoleSchema,
  joined_at: isoDateTimeSchema,
});

export const memberListSchema = z.object({ data: z.array(memberSchema) });

export const memberParamsSchema = z.object({ user_id: z.string().min(1).max(64) });

export const updateMemberSchema = z.object({ role: workspaceRoleSchema });

export const createInviteSchema = z.object({
  email: emailSchema,
  role: workspaceRoleSchema.default("viewer"),
  /** How long the link stays valid. */
  expires_in_hours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(72),
});

export const inviteSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: workspaceRoleSchema,
  expires_at: isoDateTimeSchema,
  accepted_at: isoDateTimeSchema.nullable(),
  created_at: isoDateTimeSchema,
});

/** The answer to creating an invite: the one-time link, shown this once. */
export const createdInviteSchema = inviteSchema.extend({ token: z.string(), url: z.string() });

export const inviteListSchema = z.object({ data: z.array(inviteSchema) });

export const inviteParamsSchema = z.object({ invite_id: z.string().min(1).max(64) });

export const inviteTokenParamsSchema = z.object({ token: z.string().min(1).max(128) });

export const acceptInviteSchema = z.object({
  name: z.string().trim().max(100).optional(),
  password: passwordSchema,
});

/** The invite page's form for a new account: the password typed twice (the API takes it once). */
export const newAccountFormSchema = acceptInviteSchema
  .extend({ confirm: z.string() })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "the passwords differ" });

/** The invite page's form for an email that already has an account: its password. */
export const existingAccountFormSchema = acceptInviteSchema.pick({ password: true });

/** What the invite page shows before the invitee accepts. */
export const invitePreviewSchema = z.object({
  email: z.string(),
  workspace_name: z.string(),
  role: workspaceRoleSchema,
  /** An account with this email exists: accepting asks for its password instead of a new one. */
  existing_user: z.boolean(),
});

export type Member = z.infer<typeof memberSchema>;
export type Invite = z.infer<typeof inviteSchema>;
export type CreatedInvite = z.infer<typeof createdInviteSchema>;
export type CreateInviteInput = z.input<typeof createInviteSchema>;
export type InvitePreview = z.infer<typeof invitePreviewSchema>;
export type AcceptInviteInput = z.infer<typeof acceptInviteSchema>;
