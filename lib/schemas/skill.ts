import { z } from "zod";

import { isoDateTimeSchema, pageOf, paginationQuerySchema, searchQuerySchema } from "./common";

export const SKILL_CONTENT_MAX = 256 * 1024;

const SKILL_MARKER = /(^|\n)\s*<!-- skill(:|\s*-->)/;

export const skillCreateFields = {
  name: z.string().trim().min(1, "name is required").max(128),
  description: z.string().trim().max(1024).nullable().optional(),
  content: z
    .string()
    .max(SKILL_CONTENT_MAX)
    .refine((c) => c.trim().length > 0, "content is required")
    .refine((c) => !SKILL_MARKER.test(c), "content must not contain <!-- skill --> markers"),
};

export const createSkillSchema = z.object(skillCreateFields);

export const updateSkillSchema = z.object({
  name: skillCreateFields.name.optional(),
  description: skillCreateFields.description,
  content: skillCreateFields.content.optional(),
  expected_version: z.number().int().min(1).optional(),
});

export const skillSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  content: z.string(),
  version: z.number().int(),
  created_at: isoDateTimeSchema,
  updated_at: isoDateTimeSchema,
});

export const skillVersionSchema = z.object({
  version: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  content: z.string(),
  created_at: isoDateTimeSchema,
});

export const skillListQuerySchema = paginationQuerySchema.extend({ search: searchQuerySchema });
export const skillListSchema = pageOf(skillSchema);
export const skillVersionListSchema = z.object({ data: z.array(skillVersionSchema) });
export const skillIdParamsSchema = z.object({ id: z.string().min(1).max(64) });

export type CreateSkillInput = z.infer<typeof createSkillSchema>;
export type UpdateSkillInput = z.infer<typeof updateSkillSchema>;
export type Skill = z.infer<typeof skillSchema>;
export type SkillVersion = z.infer<typeof skillVersionSchema>;
export type SkillListQuery = z.infer<typeof skillListQuerySchema>;
