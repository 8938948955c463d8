import { z } from "zod";

import { isoDateTimeSchema } from "./common";
import { cursorPageOf, cursorQuerySchema } from "./managed-common";
import { SKILL_CONTENT_MAX } from "./skill";

/*
 * Skills as the Managed Agents API (/v1/skills) shows them: Hangar's skill library. A skill is
 * uploaded as files (multipart, as the SDK sends them); Hangar's skills are one SKILL.md each.
 */

const uploadedFile = z.object({
  filename: z.string().max(1024),
  content: z.string().max(SKILL_CONTENT_MAX, "SKILL.md is larger than 256 KiB"),
});

export const createManagedSkillSchema = z.object({
  files: z
    .array(uploadedFile)
    .min(1, "upload the skill's SKILL.md")
    .max(1, "Hangar skills are one SKILL.md; other files are not supported yet")
    .refine(
      (files) => files.every((f) => /(^|[\\/])SKILL\.md$/i.test(f.filename)),
      "the file must be named SKILL.md",
    ),
  display_name: z.string().trim().max(128).nullish(),
});

export type CreateManagedSkillInput = z.infer<typeof createManagedSkillSchema>;

export const managedSkillSchema = z.object({
  id: z.string(),
  type: z.literal("skill"),
  display_name: z.string(),
  latest_version_id: z.string(),
  source: z.object({ type: z.literal("custom") }),
  created_at: isoDateTimeSchema,
  updated_at: isoDateTimeSchema,
});

export type ManagedSkill = z.infer<typeof managedSkillSchema>;

export const managedSkillListSchema = cursorPageOf(managedSkillSchema);
export const managedSkillListQuerySchema = cursorQuerySchema.extend({ source: z.string().max(32).nullish() });
