import { infiniteQueryOptions, queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";

import type { z } from "zod";

import type {
  createSessionSchema,
  restartSessionSchema,
  Session,
  SessionListQuery,
  sessionListSchema,
  sessionLogSchema,
} from "@/lib/schemas/session";

import { agentQueries } from "./agents";
import { apiFetch, apiFetchText, queryString } from "./fetcher";

const AGENTS = "/api/v1/managed_agents/agents";
const BASE = "/api/v1/managed_agents/sessions";

export type SessionListParams = Partial<SessionListQuery>;
export type SessionPage = z.infer<typeof sessionListSchema>;
export type SessionLogPage = z.infer<typeof sessionLogSchema>;
export type CreateSessionBody = z.input<typeof createSessionSchema>;
export type RestartSessionBody = z.input<typeof restartSessionSchema>;

/** How often a view re-reads a session: fast while it boots, slowly while it runs, never once it ended. */
export const POLL_BOOTING_MS = 1000;
export const POLL_LIVE_MS = 15_000;
const LOG_PAGE = 500;
export const BOOT_LOG_LINES = 1000;

function pollFor(statuses: Session["status"][]): number | false {
  if (statuses.includes("creating")) return POLL_BOOTING_MS;
  if (statuses.includes("ready")) return POLL_LIVE_MS;
  return false;
}

export const sessionQueries = {
  all: () => ["sessions"] as const,
  /** Polls while a listed session is booting, so its phase moves on without a reload. */
  list: (params: SessionListParams) =>
    queryOptions({
      queryKey: [...sessionQueries.all(), "list", params],
      queryFn: () => apiFetch<SessionPage>(BASE + queryString(params)),
      placeholderData: (previous) => previous,
      refetchInterval: (query) => pollFor(query.state.data?.data.map((s) => s.status) ?? []),
    }),
  /** Note: every GET of a session counts as activity (it moves `last_seen_at`). */
  detail: (id: string) =>
    queryOptions({
      queryKey: [...sessionQueries.all(), "detail", id],
      queryFn: () => apiFetch<Session>(`${BASE}/${id}`),
      refetchInterval: (query) => pollFor(query.state.data ? [query.state.data.status] : []),
    }),
  /** The event timeline, oldest first, a page at a time (`after` is the last seq seen). */
  log: (id: string, status: Session["status"] | undefined) =>
    infiniteQueryOptions({
      queryKey: [...sessionQueries.all(), "log", id],
      queryFn: ({ pageParam }) =>
        apiFetch<SessionLogPage>(`${BASE}/${id}/log` + queryString({ after: pageParam, limit: LOG_PAGE })),
      initialPageParam: 0,
      getNextPageParam: (last) =>
        last.data.length === LOG_PAGE ? (last.data.at(-1)?.seq ?? undefined) : undefined,
      refetchInterval: status ? pollFor([status]) : false,
    }),
  /** Bootstrap and harness output (plain text), the last `BOOT_LOG_LINES` lines. */
  sandboxLogs: (id: string, status: Session["status"] | undefined) =>
    queryOptions({
      queryKey: [...sessionQueries.all(), "sandbox-logs", id],
      queryFn: () => apiFetchText(`${BASE}/${id}/sandbox_logs` + queryString({ tail_lines: BOOT_LOG_LINES })),
      refetchInterval: status ? pollFor([status]) : false,
    }),
};

/** Puts the session a mutation answered with in the cache, then has every view of sessions re-read. */
function useSessionChanged() {
  const client = useQueryClient();
  return (session: Session) => {
    client.setQueryData(sessionQueries.detail(session.id).queryKey, session);
    // An agent's list row counts its sessions and says whether one is live.
    return Promise.all([
      client.invalidateQueries({ queryKey: sessionQueries.all() }),
      client.invalidateQueries({ queryKey: agentQueries.all() }),
    ]);
  };
}

/** POST /agents/{id}/session: answers at once with the session in `creating`. */
export function useCreateSession(agentId: string) {
  const changed = useSessionChanged();
  return useMutation({
    mutationFn: (input: CreateSessionBody) =>
      apiFetch<Session>(`${AGENTS}/${agentId}/session`, { method: "POST", json: input }),
    onSuccess: changed,
  });
}

/** DELETE stops the sandbox; the record and its timeline stay (status `dead`). */
export function useStopSession() {
  const changed = useSessionChanged();
  return useMutation({
    mutationFn: (id: string) => apiFetch<Session>(`${BASE}/${id}`, { method: "DELETE" }),
    onSuccess: changed,
  });
}

/** A new sandbox with the same configuration; per-session env vars only if given again. */
export function useRestartSession(id: string) {
  const changed = useSessionChanged();
  return useMutation({
    mutationFn: (input: RestartSessionBody) =>
      apiFetch<Session>(`${BASE}/${id}/restart`, { method: "POST", json: input }),
    onSuccess: changed,
  });
}

export function messageUrl(origin: string, id: string) {
  return `${origin}${BASE}/${id}/message`;
}
