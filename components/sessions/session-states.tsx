"use client";

import { CircleCheck, CircleStop, CircleX, LoaderCircle } from "lucide-react";
import { useSyncExternalStore, type ReactNode } from "react";

import { CopyButton } from "@/components/ui/copy-button";
import { RelativeTime } from "@/components/ui/time";
import { messageUrl } from "@/lib/api-client/sessions";
import { HARNESSES } from "@/lib/schemas/harness";
import type { Session } from "@/lib/schemas/session";

import { formatMs, phaseLabel } from "./session-phases";

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

/** A ready session of a terminal harness: how to reach it over the API. */
export function ReadyState({ session }: { session: Session }) {
  const origin = useOrigin();
  const snippet = messageSnippet(origin, session.id);
  return (
    <State
      live
      icon={<CircleCheck size={18} aria-hidden className="text-success" />}
      title={
        <>
          Ready
          {session.timings.total !== undefined && (
            <span className="ml-2 text-xs font-normal text-fg-muted">
              booted in {formatMs(session.timings.total)}
            </span>
          )}
        </>
      }
    >
      <p className="text-xs text-fg-muted">
        {harnessLabel(session)} is running in the sandbox. Send it a message over the API:
      </p>
      <div className="rounded-md border border-border">
        <div className="flex h-8 items-center justify-between border-b border-border bg-bg-subtle pr-1 pl-3">
          <span className="text-[11px] text-fg-muted">POST …/sessions/{"{id}"}/message</span>
          <CopyButton text={snippet} label="Copy the curl command" />
        </div>
        {/* Wider than the panel: focusable, so a keyboard can scroll it sideways. */}
        <pre
          tabIndex={0}
          role="region"
          aria-label="curl command to send a message"
          className="overflow-x-auto p-3 font-mono text-[11px] leading-relaxed focus-visible:outline-offset-[-2px]"
        >
          {snippet}
        </pre>
      </div>
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
