"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ArrowDownToLine, RefreshCw, RotateCw, Square, SquareTerminal } from "lucide-react";
import Link from "next/link";
import { useState } from "react";

import { Button } from "@/components/ui/button";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Tabs } from "@/components/ui/tabs";
import { useCaller } from "@/lib/api-client/auth";
import { ApiClientError } from "@/lib/api-client/fetcher";
import { BOOT_LOG_LINES, sessionQueries } from "@/lib/api-client/sessions";
import { cn } from "@/lib/cn";
import type { Session } from "@/lib/schemas/session";

import { AgentLink } from "./agent-name";
import { BootLog } from "./boot-log";
import { IsolationWarning } from "./isolation-warning";
import { RestartSessionDialog } from "./restart-session-dialog";
import { SessionFacts } from "./session-facts";
import { SessionMain } from "./session-main";
import { isLive, runsWithoutIsolation } from "./session-phases";
import { SessionProgress } from "./session-progress";
import { SessionStatusBadge } from "./session-status-badge";
import { SessionTimeline } from "./session-timeline";
import { StopSessionDialog } from "./stop-session-dialog";

type Tab = "boot-log" | "timeline";

export function SessionViewer({ id }: { id: string }) {
  const query = useQuery(sessionQueries.detail(id));
  const session = query.data;

  if (query.error) {
    const missing = query.error instanceof ApiClientError && query.error.status === 404;
    return (
      <>
        <PageHeader title="Session" />
        <EmptyState
          icon={<SquareTerminal size={28} aria-hidden />}
          title={missing ? "No such session" : "The session could not be loaded"}
          body={missing ? `There is no session ${id}.` : query.error.message}
          action={
            <Link href="/sessions" className="text-[13px] font-medium text-accent hover:underline">
              All sessions
            </Link>
          }
        />
      </>
    );
  }
  if (!session) return <div className="h-14 border-b border-border" aria-busy="true" />;
  return <SessionView session={session} />;
}

function SessionView({ session }: { session: Session }) {
  const client = useQueryClient();
  const [tab, setTab] = useState<Tab>("boot-log");
  const [follow, setFollow] = useState(true);
  const [stopping, setStopping] = useState(false);
  const [restarting, setRestarting] = useState(false);
  const live = isLive(session);
  // Starting, stopping and restarting take the operator role; a viewer watches.
  const operator = useCaller().can("operator");
  const title = session.title || "Untitled session";

  const refresh = () =>
    client.invalidateQueries({
      queryKey:
        tab === "boot-log"
          ? sessionQueries.sandboxLogs(session.id, session.status).queryKey
          : sessionQueries.log(session.id, session.status).queryKey,
    });

  return (
    <>
      <PageHeader
        title={
          <span className="flex min-w-0 items-center gap-2">
            <span className="truncate">{title}</span>
            <SessionStatusBadge session={session} />
          </span>
        }
        description={
          <>
            <AgentLink
              agentId={session.agent_id}
              className="text-fg underline decoration-border-strong underline-offset-2 hover:decoration-fg"
            />
            <span aria-hidden> · </span>
            <span className="font-mono">{session.id}</span>
          </>
        }
        actions={
          operator && (
            <>
              <Button
                size="sm"
                onClick={() => setRestarting(true)}
                disabled={session.status === "creating"}
                title={session.status === "creating" ? "Wait until the boot ends" : undefined}
              >
                <RotateCw size={14} aria-hidden />
                Restart
              </Button>
              <Button size="sm" onClick={() => setStopping(true)} disabled={!live}>
                <Square size={13} aria-hidden />
                Stop
              </Button>
            </>
          )
        }
      />
      <div className="border-b border-border px-6 py-4">
        <SessionProgress session={session} />
      </div>

      <div className="grid gap-4 px-6 py-5 xl:grid-cols-[minmax(0,1fr)_320px]">
        <div className="flex min-w-0 flex-col gap-4">
          {live && runsWithoutIsolation(session) && <IsolationWarning />}
          <SessionMain session={session} />
          <Tabs<Tab>
            label="Session output"
            value={tab}
            onChange={setTab}
            aside={
              <>
                {tab === "boot-log" && (
                  <>
                    <span className="mr-1 text-[11px] text-fg-subtle">Last {BOOT_LOG_LINES} lines</span>
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-pressed={follow}
                      onClick={() => setFollow((f) => !f)}
                      className={cn(follow && "bg-bg-muted text-fg")}
                    >
                      <ArrowDownToLine size={13} aria-hidden />
                      Follow
                    </Button>
                  </>
                )}
                <Button
                  size="icon"
                  variant="ghost"
                  aria-label={tab === "boot-log" ? "Reload the boot log" : "Reload the timeline"}
                  onClick={() => void refresh()}
                >
                  <RefreshCw size={13} aria-hidden />
                </Button>
              </>
            }
            tabs={[
              {
                key: "boot-log",
                label: "Boot log",
                panel: <BootLog session={session} follow={follow} onFollowChange={setFollow} />,
              },
              { key: "timeline", label: "Timeline", panel: <SessionTimeline session={session} /> },
            ]}
          />
        </div>

        <SessionFacts session={session} />
      </div>

      {stopping && <StopSessionDialog session={session} open onClose={() => setStopping(false)} />}
      {restarting && <RestartSessionDialog session={session} onClose={() => setRestarting(false)} />}
    </>
  );
}
