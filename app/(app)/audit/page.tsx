import type { Metadata } from "next";

import { AdminOnly } from "@/components/teams/admin-only";
import { AuditPage } from "@/components/teams/audit-page";

export const metadata: Metadata = { title: "Audit log" };

export default function Audit() {
  return (
    <AdminOnly title="Audit log">
      <AuditPage />
    </AdminOnly>
  );
}
