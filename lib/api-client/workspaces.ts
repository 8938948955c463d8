import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";

import type { CreateWorkspaceInput, Workspace } from "@/lib/schemas/workspace";

import { apiFetch } from "./fetcher";

const BASE = "/api/v1/workspaces";

export const workspaceQueries = {
  all: () => ["workspaces"] as const,
  list: () =>
    queryOptions({
      queryKey: [...workspaceQueries.all(), "list"],
      queryFn: () => apiFetch<{ data: Workspace[] }>(BASE),
      staleTime: 60_000,
    }),
};

export function useCreateWorkspace() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateWorkspaceInput) => apiFetch<Workspace>(BASE, { method: "POST", json: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: workspaceQueries.all() }),
  });
}
