"use client";

import type { Session } from "@/lib/schemas/session";

import { SessionChat } from "./session-chat";
import { BootingState, FailedState, ReadyState, StoppedState } from "./session-states";

/**
 * The session's main area. API harnesses (opencode, the Agent SDK) get the chat thread; terminal
 * harnesses show the boot and, once ready, how to reach them (their terminal takes this place later).
 */
export function SessionMain({ session }: { session: Session }) {
  if (!session.supports_tui) return <SessionChat key={session.id} session={session} />;
  return (
    <section aria-label="Session" className="rounded-lg border border-border">
      {session.status === "creating" ? (
        <BootingState session={session} />
      ) : session.status === "ready" ? (
        <ReadyState session={session} />
      ) : session.status === "failed" ? (
        <FailedState session={session} />
      ) : (
        <StoppedState session={session} />
      )}
    </section>
  );
}
