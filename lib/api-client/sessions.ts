import { infiniteQueryOptions, queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import type { z } from "zod";

import type { ErrorEnvelope } from "@/lib/schemas/common";
import type {
  createSessionSchema,
  restartSessionSchema,
  Session,
  SessionListQuery,
  sessionListSchema,
  sessionLogSchema,
} from "@/lib/schemas/session";
import type { ThreadMessage } from "@/lib/schemas/session-event";

import { agentQueries } from "./agents";
import { ApiClientError, apiFetch, apiFetchText, queryString } from "./fetcher";

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
      // The status is part of the key: when a boot settles, the log is read once more, so its last
      // lines (the failure) are shown even if they came after the last poll.
      queryKey: [...sessionQueries.all(), "sandbox-logs", id, status],
      placeholderData: (previous) => previous,
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

export type PermissionReply = "once" | "always" | "reject";

/**
 * GET /sessions/{id}/messages: the folded thread and the seq it was folded up to (the
 * `x-hangar-last-seq` header), where the live event stream resumes. apiFetch hides headers, hence
 * a plain fetch here.
 */
export async function fetchThread(
  id: string,
  signal?: AbortSignal,
): Promise<{ messages: ThreadMessage[]; lastSeq: number }> {
  const res = await fetch(`${BASE}/${id}/messages`, { credentials: "same-origin", signal });
  if (!res.ok) {
    const envelope = (await res.json().catch(() => null)) as ErrorEnvelope | null;
    throw new ApiClientError(
      res.status,
      envelope?.error?.code ?? "unknown",
      envelope?.error?.message ?? `Request failed (${res.status})`,
    );
  }
  const messages = (await res.json()) as ThreadMessage[];
  const header = Number(res.headers.get("x-hangar-last-seq"));
  const lastSeq = Number.isFinite(header) ? header : Math.max(0, ...messages.map((m) => m.info.seq));
  return { messages, lastSeq };
}

/** The session's event log as SSE, from after `after`, then live (EventSource; the cookie authenticates). */
export function eventsUrl(id: string, after: number) {
  return `${BASE}/${id}/events` + queryString({ after });
}

/**
 * POST /sessions/{id}/message. It answers once the turn ends, but the event stream shows the turn as
 * it runs, so callers only care about the errors that come first: 409 (a turn is running, or the
 * harness is a terminal one) and 410 (the session has ended).
 */
export function useSendMessage(id: string) {
  return useMutation({
    mutationFn: (text: string) =>
      apiFetch<ThreadMessage>(`${BASE}/${id}/message`, { method: "POST", json: { text } }),
  });
}

/** POST /sessions/{id}/abort: the running turn ends with finish "aborted". */
export function useAbortTurn(id: string) {
  return useMutation({
    mutationFn: () => apiFetch<{ ok: true; aborted: boolean }>(`${BASE}/${id}/abort`, { method: "POST" }),
  });
}

/** POST /sessions/{id}/permissions/{pid}: the log gets a permission_reply once the harness has it. */
export function useAnswerPermission(id: string) {
  return useMutation({
    mutationFn: ({ permissionId, reply }: { permissionId: string; reply: PermissionReply }) =>
      apiFetch<{ ok: true }>(`${BASE}/${id}/permissions/${encodeURIComponent(permissionId)}`, {
        method: "POST",
        json: { reply },
      }),
  });
}
