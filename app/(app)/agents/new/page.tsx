import type { Metadata } from "next";

import { NewAgent } from "@/components/agents/agent-editor-pages";
import { AdminOnly } from "@/components/teams/admin-only";

export const metadata: Metadata = { title: "New agent" };

export default function NewAgentPage() {
  return (
    <AdminOnly title="New agent">
      <NewAgent />
    </AdminOnly>
  );
}
