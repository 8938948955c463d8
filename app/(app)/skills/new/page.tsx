import type { Metadata } from "next";

import { NewSkillForm } from "@/components/skills/new-skill-form";
import { AdminOnly } from "@/components/teams/admin-only";

export const metadata: Metadata = { title: "New skill" };

export default function NewSkillPage() {
  return (
    <AdminOnly title="New skill">
      <NewSkillForm />
    </AdminOnly>
  );
}
