import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";

import { readBrowserSession, sessionCookieName } from "@/lib/api/browser-session";

/** The login cookie of this transport (server.ts settled X-Forwarded-Proto before Next saw it). */
async function loginCookie(): Promise<string | undefined> {
  const secure = (await headers()).get("x-forwarded-proto") === "https";
  return (await cookies()).get(sessionCookieName(secure))?.value;
}

/** For server pages: the browser's login, or a redirect to the login page. */
export async function requireBrowserSession() {
  const session = await readBrowserSession(await loginCookie());
  if (!session) redirect("/login");
  return session;
}

export async function hasBrowserSession(): Promise<boolean> {
  return (await readBrowserSession(await loginCookie())) !== null;
}
