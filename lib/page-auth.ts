import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import { readBrowserSession, SESSION_COOKIE } from "@/lib/api/browser-session";

/** For server pages: the browser's login, or a redirect to the login page. */
export async function requireBrowserSession() {
  const jar = await cookies();
  const session = await readBrowserSession(jar.get(SESSION_COOKIE)?.value);
  if (!session) redirect("/login");
  return session;
}

export async function hasBrowserSession(): Promise<boolean> {
  const jar = await cookies();
  return (await readBrowserSession(jar.get(SESSION_COOKIE)?.value)) !== null;
}
