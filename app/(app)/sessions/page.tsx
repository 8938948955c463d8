import type { Metadata } from "next";
import { Suspense } from "react";

import { SessionsTable } from "@/components/sessions/sessions-table";

export const metadata: Metadata = { title: "Sessions" };

export default function SessionsPage() {
  return (
    <Suspense>
      <SessionsTable />
    </Suspense>
  );
}
