import type { Metadata } from "next";

import { AdminOnly } from "@/components/teams/admin-only";
import { ApiKeysPage } from "@/components/teams/api-keys-page";

export const metadata: Metadata = { title: "API keys" };

export default function ApiKeys() {
  return (
    <AdminOnly title="API keys">
      <ApiKeysPage />
    </AdminOnly>
  );
}
