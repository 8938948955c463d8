"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { useCallback, useId, useRef, useState, type KeyboardEvent } from "react";

import { sessionQueries } from "@/lib/api-client/sessions";
import { cn } from "@/lib/cn";
import { HARNESSES } from "@/lib/schemas/harness";
import type { Session } from "@/lib/schemas/session";

import type { TerminalKind } from "./terminal-protocol";
import { TerminalScreen } from "./terminal-screen";

const KINDS: TerminalKind[] = ["tui", "shell"];

function endedReason(session: Session): string | null {
  if (session.status === "failed") return session.failure_reason ?? "failed";
  if (session.status === "dead") return session.phase_detail ?? "stopped";
  return null;
}

/**
 * The main area of a ready terminal-harness session: its TUI in a browser terminal, and a shell in
 * the same sandbox as a second tab. `readOnly` (the `?view=1` page, or a caller with the viewer
 * role: `viewerRole`) watches without typing. Once the
 * session ends the last screen stays, marked as ended.
 */
export function TerminalPane({
  session,
  readOnly,
  viewerRole = false,
}: {
  session: Session;
  readOnly: boolean;
  viewerRole?: boolean;
}) {
  const client = useQueryClient();
  const id = useId();
  const tabRefs = useRef(new Map<TerminalKind, HTMLButtonElement>());
  // A shell in the sandbox takes the operator role (the server refuses a viewer one).
  const kinds = viewerRole ? KINDS.slice(0, 1) : KINDS;
  const initial = useSearchParams().get("terminal") === "shell" && !viewerRole ? "shell" : "tui";
  const [kind, setKind] = useState<TerminalKind>(initial);
  const harness = HARNESSES[session.harness_id].label;
  const title = session.title || "Untitled session";
  const ended = session.status !== "ready";

  const onDropped = useCallback(
    () => void client.invalidateQueries({ queryKey: sessionQueries.detail(session.id).queryKey }),
    [client, session.id],
  );

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const index = kinds.indexOf(kind);
    if (ended) return;
    const next =
      e.key === "ArrowRight" || e.key === "End"
        ? kinds[Math.min(index + 1, kinds.length - 1)]
        : e.key === "ArrowLeft" || e.key === "Home"
          ? kinds[Math.max(index - 1, 0)]
          : undefined;
    if (!next) return;
    e.preventDefault();
    setKind(next);
    tabRefs.current.get(next)?.focus();
  }

  const tabs = (
    <div role="tablist" aria-label="Terminals" onKeyDown={onKeyDown} className="flex h-full shrink-0">
      {kinds.map((k) => (
        <button
          key={k}
          ref={(el) => {
            if (el) tabRefs.current.set(k, el);
            else tabRefs.current.delete(k);
          }}
          type="button"
          role="tab"
          id={`${id}-tab-${k}`}
          aria-selected={k === kind}
          aria-controls={k === kind ? `${id}-panel` : undefined}
          tabIndex={k === kind ? 0 : -1}
          // Once the session ended only the terminal on screen is left to read.
          disabled={ended && k !== kind}
          title={k === "shell" ? "A login shell inside the session's sandbox" : undefined}
          onClick={() => setKind(k)}
          className={cn(
            "-mb-px inline-flex h-full items-center border-b-2 px-3 text-xs font-medium first:rounded-tl-lg focus-visible:outline-offset-[-2px] disabled:opacity-50",
            k === kind ? "border-accent text-fg" : "border-transparent text-fg-muted hover:text-fg",
          )}
        >
          {k === "shell" ? "Shell" : harness}
        </button>
      ))}
    </div>
  );

  return (
    <section
      aria-label={`Terminal for ${title}`}
      // The page header and the boot progress sit above; the pane takes the rest of the window.
      className="flex h-[max(22rem,calc(100dvh-12.75rem))] min-w-0 flex-col border-border not-first:border-t"
    >
      <TerminalScreen
        // A new connection per terminal; the server keeps both running.
        key={kind}
        sessionId={session.id}
        kind={kind}
        programLabel={kind === "shell" ? "The shell" : harness}
        readOnly={readOnly}
        viewerRole={viewerRole}
        ended={ended}
        endedReason={endedReason(session)}
        onDropped={onDropped}
        tabs={tabs}
        tabId={`${id}-tab-${kind}`}
        panelId={`${id}-panel`}
        readOnlyHref={
          readOnly || ended
            ? null
            : `/sessions/${encodeURIComponent(session.id)}?view=1${kind === "shell" ? "&terminal=shell" : ""}`
        }
      />
    </section>
  );
}
