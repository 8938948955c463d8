"use client";

import { useSearchParams } from "next/navigation";
import { useState } from "react";

import { useCaller } from "@/lib/api-client/auth";
import type { Session } from "@/lib/schemas/session";

import { BootTail } from "./boot-tail";
import { SessionChat } from "./session-chat";
import { BootingState, FailedState, StoppedState } from "./session-states";
import { TerminalPane } from "./terminal-pane";

/**
 * The session's main area. API harnesses (opencode, the Agent SDK) get the chat thread; terminal
 * harnesses (Claude Code, Codex) show the boot, then their terminal. A terminal that was on screen
 * when the session ended stays below the ended state, with its last screen.
 */
export function SessionMain({ session }: { session: Session }) {
  const viewOnly = useSearchParams().get("view") === "1";
  // A viewer never types: the terminal connects read-only (the server would drop its keystrokes anyway).
  const { role } = useCaller();
  const viewerRole = role === "viewer";
  const readOnly = viewOnly || viewerRole;
  const [terminalShown, setTerminalShown] = useState(false);
  // Derived from the previous render (React's documented pattern): a restart boots a new terminal.
  if (session.status === "ready" && !terminalShown) setTerminalShown(true);
  if (session.status === "creating" && terminalShown) setTerminalShown(false);

  if (!session.supports_tui) return <SessionChat key={session.id} session={session} />;
  const showTerminal = session.status === "ready" || (terminalShown && session.status !== "creating");
  return (
    <section aria-label="Session" className="flex flex-col rounded-lg border border-border">
      {session.status === "creating" && (
        <>
          <BootingState session={session} />
          <BootTail session={session} />
        </>
      )}
      {session.status === "failed" && <FailedState session={session} />}
      {session.status === "dead" && <StoppedState session={session} />}
      {showTerminal && role !== null && (
        <TerminalPane key={session.id} session={session} readOnly={readOnly} viewerRole={viewerRole} />
      )}
    </section>
  );
}
