"use client";

import { useQuery } from "@tanstack/react-query";

import { sessionQueries } from "@/lib/api-client/sessions";
import type { Session } from "@/lib/schemas/session";

import { TERMINAL_BACKGROUND } from "./terminal-theme";

const TAIL_LINES = 14;

/**
 * The newest lines of the sandbox's output while it boots, where the terminal will appear. It shares
 * the boot log's query, so it costs no extra request.
 */
export function BootTail({ session }: { session: Pick<Session, "id" | "status"> }) {
  const query = useQuery(sessionQueries.sandboxLogs(session.id, session.status));
  const lines = (query.data ?? "").replace(/\n+$/, "").split("\n").slice(-TAIL_LINES).join("\n");
  return (
    <pre
      role="region"
      aria-label="Latest sandbox output"
      className="min-h-40 overflow-hidden rounded-b-lg border-t border-border px-3 py-2.5 font-mono text-[11px] leading-relaxed break-all whitespace-pre-wrap text-zinc-300"
      style={{ background: TERMINAL_BACKGROUND }}
    >
      {lines || <span className="text-zinc-500">Waiting for the sandbox&apos;s first output…</span>}
    </pre>
  );
}
