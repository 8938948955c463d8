import type { Metadata } from "next";
import { Suspense } from "react";

import { AgentsTable } from "@/components/agents/agents-table";

export const metadata: Metadata = { title: "Agents" };

export default function AgentsPage() {
  return (
    <Suspense>
      <AgentsTable />
    </Suspense>
  );
}
