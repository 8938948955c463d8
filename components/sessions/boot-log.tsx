"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { BOOT_LOG_LINES, sessionQueries } from "@/lib/api-client/sessions";
import type { Session } from "@/lib/schemas/session";

/**
 * The sandbox's own output (bootstrap, then the harness), re-read while the session is live. With
 * `follow` on it stays scrolled to the newest line; scrolling up turns it off.
 */
export function BootLog({
  session,
  follow,
  onFollowChange,
}: {
  session: Pick<Session, "id" | "status">;
  follow: boolean;
  onFollowChange: (follow: boolean) => void;
}) {
  const query = useQuery(sessionQueries.sandboxLogs(session.id, session.status));
  const ref = useRef<HTMLPreElement>(null);
  const text = query.data ?? "";

  useEffect(() => {
    const el = ref.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [text, follow]);

  if (query.error)
    return (
      <p role="alert" className="p-3 text-xs text-danger">
        The boot log could not be read: {query.error.message}
      </p>
    );

  return (
    <pre
      ref={ref}
      // A scroll region a keyboard can reach: arrow keys and Page Up/Down scroll it.
      tabIndex={0}
      role="region"
      aria-label="Boot log"
      aria-busy={query.isPending}
      onScroll={(e) => {
        const el = e.currentTarget;
        const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
        if (follow !== atBottom) onFollowChange(atBottom);
      }}
      className="max-h-96 min-h-24 overflow-auto rounded-b-lg bg-bg-subtle/60 p-3 font-mono text-[11px] leading-relaxed whitespace-pre-wrap text-fg focus-visible:outline-offset-[-2px]"
    >
      {query.isPending ? (
        <span className="text-fg-muted">Loading…</span>
      ) : text ? (
        text
      ) : (
        <span className="text-fg-muted">
          {session.status === "creating"
            ? "Waiting for the sandbox's first output…"
            : "The sandbox wrote no output."}
        </span>
      )}
    </pre>
  );
}

export const BOOT_LOG_NOTE = `Last ${BOOT_LOG_LINES} lines`;
