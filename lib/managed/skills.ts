import { createSkill, deleteSkill, getSkill, listSkillPage } from "@/db/queries/skills";
import { ValidationError } from "@/lib/errors";
import type { CreateManagedSkillInput, ManagedSkill } from "@/lib/schemas/managed-skill";
import { createSkillSchema, type Skill } from "@/lib/schemas/skill";
import { parseSkillFile } from "@/lib/skill-file";

/* /v1/skills: Hangar's skill library as the Managed Agents API shows it (docs/managed-agents.md). */

export function presentSkill(skill: Skill): ManagedSkill {
  return {
    id: skill.id,
    type: "skill",
    display_name: skill.name,
    latest_version_id: String(skill.version),
    source: { type: "custom" },
    created_at: skill.created_at,
    updated_at: skill.updated_at,
  };
}

/** A skill from its uploaded SKILL.md: the frontmatter's name (or `display_name`), description and body. */
export async function createManagedSkill(input: CreateManagedSkillInput, workspaceId: string) {
  const file = input.files[0] as { filename: string; content: string };
  const parsed = parseSkillFile(file.content, file.filename);
  const fields = createSkillSchema.safeParse({
    name: input.display_name || parsed.name,
    description: parsed.description,
    content: parsed.content,
  });
  if (!fields.success) {
    const issue = fields.error.issues[0];
    const where =
      issue?.path[0] === "name"
        ? "display_name (or the SKILL.md name)"
        : `SKILL.md ${String(issue?.path[0] ?? "")}`;
    throw new ValidationError(`${where}: ${issue?.message ?? "invalid"}`, []);
  }
  return presentSkill(await createSkill(fields.data, workspaceId));
}

export async function getManagedSkill(id: string) {
  return presentSkill(await getSkill(id));
}

export async function listManagedSkills(
  query: { limit: number; page?: string; source?: string | null },
  workspaceId: string,
) {
  if (query.source && query.source !== "custom") return { data: [], next_page: null };
  const page = await listSkillPage(query, workspaceId);
  return { data: page.data.map(presentSkill), next_page: page.next_page };
}

export async function deleteManagedSkill(id: string) {
  await deleteSkill(id);
  return { id, type: "skill_deleted" as const };
}
