import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { LoginForm } from "@/components/auth/login-form";
import { hasBrowserSession } from "@/lib/page-auth";
import { safeNextPath } from "@/lib/safe-next";

export const metadata: Metadata = { title: "Log in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await searchParams;
  // Only paths of this origin: never bounce a person to another origin after login.
  const target = safeNextPath(next);
  if (await hasBrowserSession()) redirect(target);
  return (
    <main className="grid min-h-dvh place-items-center bg-bg-subtle px-4">
      <LoginForm next={target} />
    </main>
  );
}
