import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import type { z } from "zod";

import type {
  Agent,
  AgentListItem,
  AgentListQuery,
  AttachSkillInput,
  createAgentSchema,
  updateAgentSchema,
} from "@/lib/schemas/agent";
import type { Skill } from "@/lib/schemas/skill";

import { apiFetch, queryString } from "./fetcher";

const BASE = "/api/v1/managed_agents/agents";

export type AgentListParams = Partial<AgentListQuery>;
export type AgentPage = { data: AgentListItem[]; total: number; limit: number; offset: number };

export const agentQueries = {
  all: () => ["agents"] as const,
  list: (params: AgentListParams) =>
    queryOptions({
      queryKey: [...agentQueries.all(), "list", params],
      queryFn: () => apiFetch<AgentPage>(BASE + queryString(params)),
      placeholderData: (previous) => previous,
    }),
  detail: (id: string) =>
    queryOptions({
      queryKey: [...agentQueries.all(), "detail", id],
      queryFn: () => apiFetch<Agent>(`${BASE}/${id}`),
    }),
};

export function fileUrl(agentId: string, index: number) {
  return `${BASE}/${agentId}/files/${index}`;
}

function useInvalidateAgents() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: agentQueries.all() });
}

export function useCreateAgent() {
  const invalidate = useInvalidateAgents();
  return useMutation({
    mutationFn: (input: z.input<typeof createAgentSchema>) =>
      apiFetch<Agent>(BASE, { method: "POST", json: input }),
    onSuccess: invalidate,
  });
}

export function useUpdateAgent(id: string) {
  const invalidate = useInvalidateAgents();
  return useMutation({
    mutationFn: (input: z.input<typeof updateAgentSchema>) =>
      apiFetch<Agent>(`${BASE}/${id}`, { method: "PATCH", json: input }),
    onSuccess: invalidate,
  });
}

export function useDeleteAgent() {
  const invalidate = useInvalidateAgents();
  return useMutation({
    mutationFn: (id: string) => apiFetch<void>(`${BASE}/${id}`, { method: "DELETE" }),
    onSuccess: invalidate,
  });
}

export function useAttachSkill(agentId: string) {
  const invalidate = useInvalidateAgents();
  return useMutation({
    mutationFn: (input: AttachSkillInput) =>
      apiFetch<{ agent: Agent; skill: Skill | null }>(`${BASE}/${agentId}/skill`, {
        method: "POST",
        json: input,
      }),
    onSuccess: invalidate,
  });
}
