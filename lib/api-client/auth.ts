import type { AuthSession, LoginInput } from "@/lib/schemas/auth";

import { apiFetch } from "./fetcher";

export function login(input: LoginInput) {
  return apiFetch<AuthSession>("/api/v1/auth/login", { method: "POST", json: input });
}

export function logout() {
  return apiFetch<void>("/api/v1/auth/logout", { method: "POST" });
}
