import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";

import type { CreateSkillInput, Skill, SkillVersion, UpdateSkillInput } from "@/lib/schemas/skill";

import { apiFetch, queryString } from "./fetcher";

const BASE = "/api/v1/skills";

export type SkillPage = { data: Skill[]; total: number; limit: number; offset: number };

export const skillQueries = {
  all: () => ["skills"] as const,
  list: (params: { search?: string; limit?: number; offset?: number }) =>
    queryOptions({
      queryKey: [...skillQueries.all(), "list", params],
      queryFn: () => apiFetch<SkillPage>(BASE + queryString(params)),
      placeholderData: (previous) => previous,
    }),
  detail: (id: string) =>
    queryOptions({
      queryKey: [...skillQueries.all(), "detail", id],
      queryFn: () => apiFetch<Skill>(`${BASE}/${id}`),
    }),
  versions: (id: string) =>
    queryOptions({
      queryKey: [...skillQueries.all(), "versions", id],
      queryFn: () => apiFetch<{ data: SkillVersion[] }>(`${BASE}/${id}/versions`),
    }),
};

function useInvalidateSkills() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: skillQueries.all() });
}

export function useCreateSkill() {
  const invalidate = useInvalidateSkills();
  return useMutation({
    mutationFn: (input: CreateSkillInput) => apiFetch<Skill>(BASE, { method: "POST", json: input }),
    onSuccess: invalidate,
  });
}

export function useUpdateSkill(id: string) {
  const invalidate = useInvalidateSkills();
  return useMutation({
    mutationFn: (input: UpdateSkillInput) =>
      apiFetch<Skill>(`${BASE}/${id}`, { method: "PATCH", json: input }),
    onSuccess: invalidate,
  });
}

export function useDeleteSkill() {
  const invalidate = useInvalidateSkills();
  return useMutation({
    mutationFn: (id: string) => apiFetch<void>(`${BASE}/${id}`, { method: "DELETE" }),
    onSuccess: invalidate,
  });
}
