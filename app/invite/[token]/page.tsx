import type { Metadata } from "next";

import { InviteForm } from "@/components/auth/invite-form";
import { Providers } from "@/components/providers";

export const metadata: Metadata = { title: "Accept an invite", referrer: "no-referrer" };

// Public: the token in the path is the credential. Outside the (app) layout, so no login is asked for.
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return (
    <Providers>
      <main className="grid min-h-dvh place-items-center bg-bg-subtle px-4">
        <InviteForm token={token} />
      </main>
    </Providers>
  );
}
