import type { ReactNode } from "react";

import { Providers } from "@/components/providers";
import { AppSidebar } from "@/components/shell/app-sidebar";
import { requireBrowserSession } from "@/lib/page-auth";

export default async function AppLayout({ children }: { children: ReactNode }) {
  await requireBrowserSession();
  return (
    <Providers>
      <div className="flex min-h-dvh">
        <AppSidebar />
        <main className="min-w-0 flex-1">{children}</main>
      </div>
    </Providers>
  );
}
