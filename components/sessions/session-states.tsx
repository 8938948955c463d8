"use client";

import { CircleStop, CircleX, LoaderCircle } from "lucide-react";
import { useSyncExternalStore, type ReactNode } from "react";

import { RelativeTime } from "@/components/ui/time";
import { messageUrl } from "@/lib/api-client/sessions";
import { HARNESSES } from "@/lib/schemas/harness";
import type { Session } from "@/lib/schemas/session";

import { phaseLabel } from "./session-phases";

/** This page's origin, for snippets; a placeholder during server rendering. */
export function useOrigin() {
  return useSyncExternalStore(
    () => () => {},
    () => window.location.origin,
    () => "http://127.0.0.1:3000",
  );
}

export function messageSnippet(origin: string, id: string): string {
  return [
    `curl -X POST "${messageUrl(origin, id)}" \\`,
    `  -H "Authorization: Bearer $MASTER_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"text": "Hello!"}'`,
  ].join("\n");
}

function State({
  icon,
  title,
  children,
  live,
}: {
  icon: ReactNode;
  title: ReactNode;
  children?: ReactNode;
  live?: boolean;
}) {
  return (
    <div className="flex flex-col gap-3 p-5">
      <div className="flex items-center gap-2.5">
        {icon}
        <h2 className="text-sm font-semibold" aria-live={live ? "polite" : undefined}>
          {title}
        </h2>
      </div>
      {children}
    </div>
  );
}

const harnessLabel = (session: Session) => HARNESSES[session.harness_id].label;

export function BootingState({ session }: { session: Session }) {
  return (
    <State
      live
      icon={<LoaderCircle size={18} aria-hidden className="text-accent motion-safe:animate-spin" />}
      title={`Booting: ${phaseLabel(session.phase)}…`}
    >
      {session.phase_detail && (
        <p className="font-mono text-xs break-all text-fg-muted">{session.phase_detail}</p>
      )}
      <p className="text-xs text-fg-muted">
        The sandbox is being prepared for {harnessLabel(session)}. The boot log below shows its output as it
        comes.
      </p>
    </State>
  );
}

export function FailedState({ session }: { session: Session }) {
  return (
    <State
      icon={<CircleX size={18} aria-hidden className="text-danger" />}
      title={`Boot failed while ${phaseLabel(session.phase).toLowerCase()}`}
    >
      <div role="alert" className="rounded-md border border-danger/40 bg-danger-subtle px-3 py-2.5">
        <p className="text-[11px] font-medium text-danger">Reason</p>
        <pre className="mt-1 font-mono text-xs break-words whitespace-pre-wrap text-fg">
          {session.failure_reason ?? "No reason was recorded."}
        </pre>
      </div>
      <p className="text-xs text-fg-muted">
        The boot log below has the sandbox&apos;s full output. Fix the agent or the env vars, then restart.
      </p>
    </State>
  );
}

export function StoppedState({ session }: { session: Session }) {
  return (
    <State icon={<CircleStop size={18} aria-hidden className="text-fg-muted" />} title="Stopped">
      <p className="text-xs text-fg-muted">
        {session.phase_detail ? `Reason: ${session.phase_detail}. ` : ""}
        {session.stopped_at && (
          <>
            Stopped <RelativeTime iso={session.stopped_at} />.{" "}
          </>
        )}
        The record and timeline stay; Restart boots a new sandbox with the same configuration.
      </p>
    </State>
  );
}
