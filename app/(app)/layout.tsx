import type { ReactNode } from "react";

import { Providers } from "@/components/providers";
import { AppSidebar } from "@/components/shell/app-sidebar";
import { requireBrowserSession } from "@/lib/page-auth";

export default async function AppLayout({ children }: { children: ReactNode }) {
  await requireBrowserSession();
  return (
    <Providers>
      <div className="flex h-dvh">
        <AppSidebar />
        <main className="min-w-0 flex-1 overflow-y-auto">{children}</main>
      </div>
    </Providers>
  );
}
