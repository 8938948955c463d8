"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";

import { RelativeTime } from "@/components/ui/time";
import { sessionQueries } from "@/lib/api-client/sessions";

import { IsolationMarker } from "./isolation-warning";
import { isLive, runsWithoutIsolation } from "./session-phases";
import { SessionStatusBadge } from "./session-status-badge";

const RECENT = 5;

/** An agent's newest sessions, for its detail page; polls like the sessions list. */
export function AgentSessions({ agentId }: { agentId: string }) {
  const query = useQuery(sessionQueries.list({ agent_id: agentId, limit: RECENT }));
  const data = query.data;

  if (query.error)
    return (
      <p role="alert" className="text-xs text-danger">
        {query.error.message}
      </p>
    );
  if (!data) return <div aria-busy="true" className="h-8 animate-pulse rounded bg-bg-muted" />;
  if (data.total === 0)
    return <p className="text-xs text-fg-subtle">No sessions yet. Start one with “New session”.</p>;

  return (
    <ul aria-label="Recent sessions" className="-my-1.5 flex flex-col divide-y divide-border">
      {data.data.map((session) => (
        <li key={session.id} className="flex min-h-10 items-center gap-3 py-1.5">
          <div className="min-w-0 flex-1">
            <Link
              href={`/sessions/${session.id}`}
              className="block truncate text-[13px] font-medium hover:underline"
            >
              {session.title || <span className="text-fg-muted">Untitled session</span>}
            </Link>
            {session.status === "failed" && session.failure_reason && (
              <p className="truncate text-[11px] text-danger" title={session.failure_reason}>
                {session.failure_reason.split("\n")[0]}
              </p>
            )}
          </div>
          <SessionStatusBadge session={session} />
          {isLive(session) && runsWithoutIsolation(session) && <IsolationMarker />}
          <RelativeTime
            iso={session.created_at}
            className="w-20 shrink-0 text-right text-xs whitespace-nowrap text-fg-muted"
          />
        </li>
      ))}
    </ul>
  );
}
