import type { AuthProviders } from "@/lib/schemas/oidc";

import { apiFetch } from "./fetcher";

export function getAuthProviders() {
  return apiFetch<AuthProviders>("/api/v1/auth/providers");
}

/** Where the "Sign in with …" link goes: a full navigation, the start of the redirect dance. */
export function oidcStartUrl(next: string): string {
  return `/api/v1/auth/oidc/start?next=${encodeURIComponent(next)}`;
}
