import type { Metadata } from "next";

import { NewSkillForm } from "@/components/skills/new-skill-form";

export const metadata: Metadata = { title: "New skill" };

export default function NewSkillPage() {
  return <NewSkillForm />;
}
