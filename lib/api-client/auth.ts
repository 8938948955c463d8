import { queryOptions, useMutation, useQuery } from "@tanstack/react-query";

import type { AuthSession, LoginInput } from "@/lib/schemas/auth";
import { roleAllows, type WorkspaceRole } from "@/lib/schemas/roles";

import { apiFetch } from "./fetcher";

export function login(input: LoginInput) {
  return apiFetch<AuthSession>("/api/v1/auth/login", { method: "POST", json: input });
}

export function logout() {
  return apiFetch<void>("/api/v1/auth/logout", { method: "POST" });
}

export const authQueries = {
  all: () => ["auth"] as const,
  session: () =>
    queryOptions({
      queryKey: [...authQueries.all(), "session"],
      queryFn: () => apiFetch<AuthSession>("/api/v1/auth/session"),
      // Who is calling changes only by logging in, switching workspace (a full reload) or an
      // admin changing the role: a minute old is fine.
      staleTime: 60_000,
    }),
};

/**
 * Who is calling and with which role, from GET /auth/session. `can(role)` is false until the answer
 * is in, so a control a role may not use never flashes up; the server checks every request anyway.
 */
export function useCaller() {
  const query = useQuery(authQueries.session());
  const caller = query.data;
  return {
    caller,
    role: caller?.role ?? null,
    can: (needed: WorkspaceRole) => (caller ? roleAllows(caller.role, needed) : false),
    isLoading: query.isLoading,
  };
}

/** Makes another workspace the login's current one, then reloads so every query reads it afresh. */
export function useSwitchWorkspace() {
  return useMutation({
    mutationFn: (workspaceId: string) =>
      apiFetch<AuthSession>("/api/v1/auth/workspace", {
        method: "POST",
        json: { workspace_id: workspaceId },
      }),
    onSuccess: () => window.location.reload(),
  });
}
