"use client";

import { useInfiniteQuery } from "@tanstack/react-query";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { sessionQueries } from "@/lib/api-client/sessions";
import type { Session, SessionEvent } from "@/lib/schemas/session";

import { formatMs, phaseLabel } from "./session-phases";

type Tone = "neutral" | "accent" | "warning" | "success" | "danger";

const str = (value: unknown) => (typeof value === "string" ? value : null);

/** One line for an event; unknown types show their data as JSON rather than nothing. */
function describe(event: SessionEvent): { tone: Tone; text: string } {
  const d = event.data;
  switch (event.type) {
    case "created":
      return { tone: "neutral", text: `Session created${str(d.title) ? `: ${str(d.title)}` : ""}` };
    case "user_message":
      return {
        tone: "accent",
        text: `${d.pending ? "Initial prompt (queued)" : "Message"}: ${str(d.text) ?? ""}`,
      };
    case "phase": {
      if (d.phase === "sandbox_started")
        return {
          tone: d.isolation === "none" ? "danger" : "neutral",
          text: `Sandbox started (driver ${str(d.driver) ?? "?"}, isolation ${str(d.isolation) ?? "?"})`,
        };
      const detail = str(d.detail);
      return { tone: "neutral", text: `${phaseLabel(str(d.phase))}${detail ? ` · ${detail}` : ""}` };
    }
    case "status": {
      const status = str(d.status) ?? "?";
      const reason = str(d.reason);
      const total = (d.timings as Record<string, number> | undefined)?.total;
      const tone: Tone = status === "ready" ? "success" : status === "failed" ? "danger" : "neutral";
      return {
        tone,
        text: `Status ${status}${total !== undefined ? ` in ${formatMs(total)}` : ""}${reason ? `: ${reason}` : ""}`,
      };
    }
    case "egress_denied":
      return {
        tone: "warning",
        text: `Egress denied: ${str(d.host) ?? "?"}${d.port ? `:${String(d.port)}` : ""}${str(d.reason) ? ` (${str(d.reason)})` : ""}`,
      };
    case "recovered":
      return { tone: "neutral", text: str(d.note) ?? "Recovered" };
    default:
      return { tone: "neutral", text: JSON.stringify(d) };
  }
}

function clock(iso: string): string {
  const date = new Date(iso);
  const time = date.toLocaleTimeString(undefined, { hour12: false });
  return `${time}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

/** The session's events from the durable log, oldest first. */
export function SessionTimeline({ session }: { session: Pick<Session, "id" | "status"> }) {
  const query = useInfiniteQuery(sessionQueries.log(session.id, session.status));
  const events = query.data?.pages.flatMap((p) => p.data) ?? [];

  if (query.error)
    return (
      <p role="alert" className="p-3 text-xs text-danger">
        The timeline could not be read: {query.error.message}
      </p>
    );
  if (query.isPending) return <p className="p-3 text-xs text-fg-muted">Loading…</p>;
  if (events.length === 0) return <p className="p-3 text-xs text-fg-muted">No events yet.</p>;

  return (
    <div role="region" aria-label="Session events" tabIndex={0} className="max-h-80 overflow-auto">
      <ol className="flex flex-col divide-y divide-border">
        {events.map((event) => {
          const { tone, text } = describe(event);
          return (
            <li
              key={event.seq}
              className="grid grid-cols-[5.5rem_7.5rem_minmax(0,1fr)] items-baseline gap-3 px-3 py-1.5"
            >
              <time
                dateTime={event.at}
                title={new Date(event.at).toLocaleString()}
                className="font-mono text-[11px] text-fg-muted tabular-nums"
              >
                {clock(event.at)}
              </time>
              <span>
                <Badge tone={tone} className="font-mono">
                  {event.type}
                </Badge>
              </span>
              <span className="text-xs break-words whitespace-pre-wrap">{text}</span>
            </li>
          );
        })}
      </ol>
      {query.hasNextPage && (
        <div className="border-t border-border p-2">
          <Button size="sm" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
            {query.isFetchingNextPage ? "Loading…" : "Load later events"}
          </Button>
        </div>
      )}
    </div>
  );
}
