import type { Metadata } from "next";

import { SkillDetail } from "@/components/skills/skill-detail";

export const metadata: Metadata = { title: "Skill" };

export default async function SkillPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  // Keyed by id so moving between skills starts a fresh form instead of carrying edits across.
  return <SkillDetail key={id} id={id} />;
}
