import type { ReactNode } from "react";

import { HarnessBadge } from "@/components/agents/harness-badge";
import { Badge } from "@/components/ui/badge";
import { RelativeTime } from "@/components/ui/time";
import type { Session } from "@/lib/schemas/session";

import { formatMs } from "./session-phases";

function Panel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title} className="rounded-lg border border-border">
      <header className="flex h-9 items-center border-b border-border bg-bg-subtle px-3">
        <h2 className="text-xs font-medium text-fg-muted">{title}</h2>
      </header>
      <dl className="flex flex-col gap-2.5 p-3 text-[13px]">{children}</dl>
    </section>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[7rem_minmax(0,1fr)] items-baseline gap-2">
      <dt className="text-[11px] text-fg-muted">{label}</dt>
      <dd className="min-w-0">{children}</dd>
    </div>
  );
}

const none = <span className="text-fg-subtle">—</span>;

const formatIdle = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : formatMs(ms));

/** The session page's side column: its sandbox (driver, isolation, limits) and its details. */
export function SessionFacts({ session }: { session: Session }) {
  return (
    <div className="grid min-w-0 content-start items-start gap-4 md:grid-cols-2 xl:grid-cols-1">
      <Panel title="Sandbox">
        {session.sandbox ? (
          <>
            <Fact label="Driver">
              <span className="font-mono text-xs">{session.sandbox.driver}</span>
            </Fact>
            <Fact label="Isolation">
              {session.sandbox.isolation === "none" ? (
                <Badge tone="danger">none</Badge>
              ) : (
                <Badge tone="success">{session.sandbox.isolation}</Badge>
              )}
            </Fact>
            <Fact label="Limits">
              {session.sandbox.limits ? (
                <span className="font-mono text-xs">{session.sandbox.limits}</span>
              ) : (
                none
              )}
            </Fact>
          </>
        ) : (
          <p className="text-xs text-fg-subtle">
            {session.status === "creating" ? "Starting…" : "No sandbox was started."}
          </p>
        )}
      </Panel>

      <Panel title="Details">
        <Fact label="Harness">
          <HarnessBadge harness={session.harness_id} />
        </Fact>
        <Fact label="Model">
          <span className="font-mono text-xs break-all">{session.model}</span>
        </Fact>
        <Fact label="Boot time">
          {session.timings.total !== undefined ? (
            <span className="tabular-nums">
              {formatMs(session.timings.total)}
              {session.spawn_mode === "warm" ? " (warm pool)" : ""}
            </span>
          ) : (
            none
          )}
        </Fact>
        <Fact label="Created">
          <RelativeTime iso={session.created_at} />
        </Fact>
        <Fact label="Ready">{session.ready_at ? <RelativeTime iso={session.ready_at} /> : none}</Fact>
        <Fact label="Last seen">
          <RelativeTime iso={session.last_seen_at} />
        </Fact>
        <Fact label="Stopped">{session.stopped_at ? <RelativeTime iso={session.stopped_at} /> : none}</Fact>
        <Fact label="Idle timeout">{formatIdle(session.idle_timeout_ms)}</Fact>
      </Panel>
    </div>
  );
}
