import type { Metadata } from "next";

import { EditAgent } from "@/components/agents/agent-editor-pages";
import { AdminOnly } from "@/components/teams/admin-only";

export const metadata: Metadata = { title: "Edit agent" };

export default async function EditAgentPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <AdminOnly title="Edit agent">
      <EditAgent id={id} />
    </AdminOnly>
  );
}
