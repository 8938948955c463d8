import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";

import type { ApiKey, CreateApiKeyInput, CreatedApiKey } from "@/lib/schemas/api-key";

import { apiFetch } from "./fetcher";

const BASE = "/api/v1/api_keys";

export const apiKeyQueries = {
  all: () => ["api-keys"] as const,
  list: () =>
    queryOptions({
      queryKey: [...apiKeyQueries.all(), "list"],
      queryFn: () => apiFetch<{ data: ApiKey[] }>(BASE),
    }),
};

function useInvalidateApiKeys() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: apiKeyQueries.all() });
}

export function useCreateApiKey() {
  const invalidate = useInvalidateApiKeys();
  return useMutation({
    mutationFn: (input: CreateApiKeyInput) => apiFetch<CreatedApiKey>(BASE, { method: "POST", json: input }),
    onSuccess: invalidate,
  });
}

export function useRevokeApiKey() {
  const invalidate = useInvalidateApiKeys();
  return useMutation({
    mutationFn: (id: string) => apiFetch<ApiKey>(`${BASE}/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: invalidate,
  });
}
