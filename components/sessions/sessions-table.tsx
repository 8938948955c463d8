"use client";

import { useQuery } from "@tanstack/react-query";
import { Bot, SquareTerminal } from "lucide-react";
import Link from "next/link";
import { usePathname, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";

import { HarnessBadge } from "@/components/agents/harness-badge";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Pagination } from "@/components/ui/pagination";
import { Select } from "@/components/ui/select";
import { RelativeTime } from "@/components/ui/time";
import { agentQueries } from "@/lib/api-client/agents";
import { useCaller } from "@/lib/api-client/auth";
import { sessionQueries } from "@/lib/api-client/sessions";
import { cn } from "@/lib/cn";
import { SESSION_STATUSES, type Session, type SessionStatus } from "@/lib/schemas/session";

import { AgentLink } from "./agent-name";
import { IsolationMarker, IsolationWarning } from "./isolation-warning";
import { isLive, runsWithoutIsolation } from "./session-phases";
import { SessionStatusBadge } from "./session-status-badge";
import { StartSessionButton } from "./start-session-button";

const PAGE_SIZE = 25;
const COLUMNS = ["Session", "Agent", "Status", "Harness", "Created", "Last seen"];

const STATUS_LABELS: Record<SessionStatus, string> = {
  creating: "Creating",
  ready: "Ready",
  dead: "Dead",
  failed: "Failed",
};

type ListParams = { status: SessionStatus | ""; agent: string; page: number };

function parseParams(params: URLSearchParams): ListParams {
  const status = params.get("status") as SessionStatus | null;
  return {
    status: status && SESSION_STATUSES.includes(status) ? status : "",
    agent: params.get("agent") ?? "",
    page: Math.max(0, Number(params.get("page") ?? "0") || 0),
  };
}

export function SessionsTable() {
  const pathname = usePathname();
  const initial = useSearchParams();
  // As in the agents table: state here, mirrored into the URL for reloads and links.
  const [params, setListParams] = useState(() => parseParams(initial));
  const { status, agent, page } = params;
  const setParams = (next: Partial<ListParams>) => setListParams((current) => ({ ...current, ...next }));

  useEffect(() => {
    const qs = new URLSearchParams();
    if (status) qs.set("status", status);
    if (agent) qs.set("agent", agent);
    if (page) qs.set("page", String(page));
    window.history.replaceState(null, "", qs.size ? `${pathname}?${qs}` : pathname);
  }, [pathname, status, agent, page]);

  const query = useQuery(
    sessionQueries.list({
      status: status || undefined,
      agent_id: agent || undefined,
      limit: PAGE_SIZE,
      offset: page * PAGE_SIZE,
    }),
  );
  const agents = useQuery(agentQueries.list({ limit: 200, sort: "name", order: "asc" }));
  const { can } = useCaller();
  const agentNames = new Map((agents.data?.data ?? []).map((a) => [a.id, a.name]));
  const data = query.data;
  const total = data?.total ?? 0;
  const filtered = Boolean(status || agent);
  const unisolated = (data?.data ?? []).some((s) => isLive(s) && runsWithoutIsolation(s));

  return (
    <>
      <PageHeader
        title="Sessions"
        description="Agents running in sandboxes, newest first."
        actions={can("operator") && <StartSessionButton agents={agents.data?.data ?? []} />}
      />
      {query.error ? (
        <p role="alert" className="px-6 py-4 text-danger">
          {query.error.message}
        </p>
      ) : data && total === 0 && !filtered ? (
        <EmptyState
          icon={<SquareTerminal size={28} aria-hidden />}
          title="No sessions yet"
          body="A session boots an agent's harness in a sandbox. Start one from an agent's page, or over the API."
          action={
            <Link
              href="/agents"
              className="inline-flex h-8 items-center gap-2 rounded-md bg-accent px-3 text-[13px] font-medium text-accent-fg"
            >
              <Bot size={14} aria-hidden />
              Choose an agent
            </Link>
          }
        />
      ) : (
        <div className="px-6 py-4">
          <div className="mb-3 flex flex-wrap items-center gap-3">
            <StatusFilter status={status} onChange={(value) => setParams({ status: value, page: 0 })} />
            <Select
              aria-label="Filter by agent"
              wrapperClassName="w-60"
              value={agent}
              onChange={(e) => setParams({ agent: e.target.value, page: 0 })}
            >
              <option value="">All agents</option>
              {agent && !agentNames.has(agent) && <option value={agent}>{agent}</option>}
              {(agents.data?.data ?? []).map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name ?? `Untitled (${a.id})`}
                </option>
              ))}
            </Select>
            <span className="text-xs text-fg-muted" aria-live="polite">
              {data ? `${total} session${total === 1 ? "" : "s"}` : ""}
            </span>
          </div>
          {unisolated && <IsolationWarning className="mb-3">{UNISOLATED_LIST}</IsolationWarning>}
          <div className="overflow-x-auto rounded-lg border border-border">
            <table aria-label="Sessions" className="w-full text-left text-[13px]">
              <thead className="bg-bg-subtle text-xs text-fg-muted">
                <tr>
                  {COLUMNS.map((label) => (
                    <th key={label} scope="col" className="h-8 px-3 font-medium whitespace-nowrap">
                      {label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {!data &&
                  Array.from({ length: 5 }, (_, i) => (
                    <tr key={i} className="h-12 border-t border-border" aria-hidden>
                      <td colSpan={COLUMNS.length} className="px-3">
                        <div className="h-3 w-1/3 animate-pulse rounded bg-bg-muted" />
                      </td>
                    </tr>
                  ))}
                {data?.data.map((session) => (
                  <SessionRow key={session.id} session={session} agentNames={agentNames} />
                ))}
                {data && data.data.length === 0 && (
                  <tr className="border-t border-border">
                    <td colSpan={COLUMNS.length} className="px-3 py-10 text-center text-xs text-fg-muted">
                      No sessions match these filters.{" "}
                      <button
                        type="button"
                        className="font-medium text-accent hover:underline"
                        onClick={() => setParams({ status: "", agent: "", page: 0 })}
                      >
                        Clear filters
                      </button>
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          {total > PAGE_SIZE && (
            <Pagination
              className="mt-3"
              offset={page * PAGE_SIZE}
              shown={data?.data.length ?? 0}
              total={total}
              onPrevious={() => setParams({ page: page - 1 })}
              onNext={() => setParams({ page: page + 1 })}
            />
          )}
        </div>
      )}
    </>
  );
}

const UNISOLATED_LIST =
  "Sessions marked “No isolation” run without isolation (process driver): the agent can read and change this machine.";

function SessionRow({ session, agentNames }: { session: Session; agentNames: Map<string, string | null> }) {
  const reason = session.status === "failed" ? session.failure_reason?.split("\n")[0] : null;
  return (
    <tr className="h-12 border-t border-border align-middle hover:bg-bg-subtle">
      <td className="max-w-72 px-3 py-1.5">
        <Link href={`/sessions/${session.id}`} className="block truncate font-medium hover:underline">
          {session.title || <span className="text-fg-muted">Untitled session</span>}
        </Link>
        <span className="block truncate font-mono text-[11px] text-fg-subtle">{session.id}</span>
      </td>
      <td className="max-w-56 px-3">
        <AgentLink agentId={session.agent_id} known={agentNames} className="block" />
      </td>
      <td className="max-w-72 px-3 py-1.5">
        <div className="flex flex-wrap items-center gap-1.5">
          <SessionStatusBadge session={session} />
          {isLive(session) && runsWithoutIsolation(session) && <IsolationMarker />}
        </div>
        {reason && (
          <p className="mt-0.5 truncate text-[11px] text-danger" title={session.failure_reason ?? undefined}>
            {reason}
          </p>
        )}
      </td>
      <td className="px-3 whitespace-nowrap">
        <HarnessBadge harness={session.harness_id} />
      </td>
      <td className="px-3 text-xs whitespace-nowrap text-fg-muted">
        <RelativeTime iso={session.created_at} />
      </td>
      <td className="px-3 text-xs whitespace-nowrap text-fg-muted">
        <RelativeTime iso={session.last_seen_at} />
      </td>
    </tr>
  );
}

/** All, or one status: a group of toggle buttons. */
function StatusFilter({
  status,
  onChange,
}: {
  status: SessionStatus | "";
  onChange: (status: SessionStatus | "") => void;
}) {
  return (
    <div
      role="group"
      aria-label="Filter by status"
      className="inline-flex h-8 items-center rounded-md border border-border-strong p-0.5"
    >
      {(["", ...SESSION_STATUSES] as const).map((value) => (
        <button
          key={value || "all"}
          type="button"
          aria-pressed={status === value}
          onClick={() => onChange(value)}
          className={cn(
            "h-full rounded px-2.5 text-xs font-medium",
            status === value ? "bg-bg-muted text-fg" : "text-fg-muted hover:text-fg",
          )}
        >
          {value ? STATUS_LABELS[value] : "All"}
        </button>
      ))}
    </div>
  );
}
