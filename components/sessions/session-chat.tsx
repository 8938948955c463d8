"use client";

import { useQueryClient } from "@tanstack/react-query";
import { ArrowDown, LoaderCircle, MessagesSquare } from "lucide-react";
import { useCallback, useEffect, useRef, useState, type UIEvent } from "react";

import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { useCaller } from "@/lib/api-client/auth";
import { sessionQueries } from "@/lib/api-client/sessions";
import { cn } from "@/lib/cn";
import { HARNESSES } from "@/lib/schemas/harness";
import type { Session } from "@/lib/schemas/session";
import type { ThreadMessage } from "@/lib/schemas/session-event";

import { ChatComposer } from "./chat-composer";
import { AssistantMessage, UserMessage } from "./chat-message";
import { isLive } from "./session-phases";
import { BootingState, FailedState, messageSnippet, StoppedState, useOrigin } from "./session-states";
import { runningMessage, useSessionThread, type Connection } from "./use-session-thread";

// Within this many pixels of the bottom counts as "at the bottom": new output keeps it there.
const BOTTOM_SLACK_PX = 32;

/**
 * Follows the newest output while the reader is at the bottom of `logRef`; scrolling up stops that
 * (`away`), and `jump` goes back down and follows again. `contentRef` is the growing content.
 */
function useStickToBottom(watching: boolean) {
  const logRef = useRef<HTMLDivElement>(null);
  const contentRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [away, setAway] = useState(false);
  const toBottom = useCallback(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, []);
  useEffect(() => {
    const content = contentRef.current;
    if (!content) return;
    const observer = new ResizeObserver(() => {
      if (stick.current) toBottom();
    });
    observer.observe(content);
    return () => observer.disconnect();
  }, [toBottom, watching]);

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
    stick.current = atBottom;
    setAway(!atBottom);
  };
  const jump = () => {
    stick.current = true;
    setAway(false);
    toBottom();
  };
  return { logRef, contentRef, away, onScroll, jump };
}

function ConnectionState({ connection, ended }: { connection: Connection; ended: boolean }) {
  let body;
  if (connection === "live")
    body = (
      <span className="flex items-center gap-1.5 text-success">
        <span aria-hidden className="h-1.5 w-1.5 rounded-full bg-current" />
        Live
      </span>
    );
  else if (connection === "connecting")
    body = (
      <span className="flex items-center gap-1.5 text-fg-muted">
        <LoaderCircle size={11} aria-hidden className="motion-safe:animate-spin" />
        Connecting…
      </span>
    );
  else if (connection === "reconnecting")
    body = (
      <span className="flex items-center gap-1.5 text-warning">
        <LoaderCircle size={11} aria-hidden className="motion-safe:animate-spin" />
        Reconnecting…
      </span>
    );
  else body = ended ? <span className="text-fg-subtle">Read-only</span> : null;
  return (
    <span role="status" aria-label="Connection" className="text-[11px] font-medium">
      {body}
    </span>
  );
}

/**
 * The main area of an API-harness session: the boot while it starts, then the conversation, live,
 * with a composer while the session is ready. An ended session keeps its thread, read-only.
 */
export function SessionChat({ session }: { session: Session }) {
  const client = useQueryClient();
  const origin = useOrigin();
  const harness = HARNESSES[session.harness_id].label;
  const ready = session.status === "ready";
  const ended = !isLive(session);
  // Sending takes the operator role; until the role is known, no box at all (rather than one that goes).
  const { role } = useCaller();

  const refreshSession = useCallback(
    () => void client.invalidateQueries({ queryKey: sessionQueries.detail(session.id).queryKey }),
    [client, session.id],
  );
  const state = useSessionThread({
    sessionId: session.id,
    model: session.model,
    follow: !ended,
    onLifecycle: refreshSession,
  });
  const { messages } = state.thread;
  const running = ready ? runningMessage(messages) : null;
  const stall = state.stall;
  const stalledMs =
    running && stall && stall.messageId === running.info.id && stall.seq === running.info.seq
      ? stall.quietMs
      : null;

  const showThread = ready || messages.length > 0;
  const { logRef, contentRef, away, onScroll, jump } = useStickToBottom(showThread);

  return (
    <section aria-label="Session" className="flex flex-col rounded-lg border border-border">
      {session.status === "creating" && <BootingState session={session} />}
      {session.status === "failed" && <FailedState session={session} />}
      {session.status === "dead" && <StoppedState session={session} />}
      {showThread && (
        <>
          <header className="flex h-9 items-center gap-3 border-b border-border bg-bg-subtle px-3 not-first:border-t">
            <h2 className="text-xs font-medium text-fg-muted">Conversation</h2>
            <ConnectionState connection={state.connection} ended={ended} />
            <span className="ml-auto flex items-center gap-1">
              <span className="hidden text-[11px] text-fg-subtle sm:inline">Send over the API</span>
              <CopyButton
                text={messageSnippet(origin, session.id)}
                label="Copy a curl command that sends a message"
              />
            </span>
          </header>
          <div className="relative">
            <div
              ref={logRef}
              role="log"
              aria-live="polite"
              aria-label="Conversation"
              aria-busy={running ? true : undefined}
              tabIndex={0}
              onScroll={onScroll}
              className={cn(
                "max-h-[62vh] overflow-y-auto px-4 py-4 focus-visible:outline-offset-[-2px]",
                ready && "min-h-56",
              )}
            >
              <div ref={contentRef} className="flex flex-col gap-5">
                <ThreadContent
                  state={state}
                  session={session}
                  harness={harness}
                  running={running}
                  ended={ended}
                  stalledMs={stalledMs}
                />
              </div>
            </div>
            {away && (
              <Button
                size="sm"
                onClick={jump}
                aria-label="Jump to the latest message"
                className="absolute bottom-3 left-1/2 -translate-x-1/2 shadow-sm"
              >
                <ArrowDown size={13} aria-hidden />
                Latest
              </Button>
            )}
          </div>
          {ready && role === null ? null : ready && role === "viewer" ? (
            <p className="border-t border-border px-4 py-2.5 text-xs text-fg-muted">
              You have the viewer role here: you can read this conversation but not send messages.
            </p>
          ) : ready ? (
            <ChatComposer sessionId={session.id} harness={harness} running={running !== null} onSent={jump} />
          ) : (
            <p className="border-t border-border px-4 py-2.5 text-xs text-fg-muted">
              {session.status === "creating"
                ? "The message box appears once the session is ready."
                : "This session has ended, so its conversation is read-only. Restart it to continue."}
            </p>
          )}
        </>
      )}
    </section>
  );
}

/** The thread, or why there is none yet: loading, failed to load, or no messages. */
function ThreadContent({
  state,
  session,
  harness,
  running,
  ended,
  stalledMs,
}: {
  state: ReturnType<typeof useSessionThread>;
  session: Session;
  harness: string;
  running: ThreadMessage | null;
  ended: boolean;
  stalledMs: number | null;
}) {
  const { messages } = state.thread;
  return !state.loaded ? (
    <p className={cn("text-xs", state.loadError ? "text-danger" : "text-fg-muted")}>
      {state.loadError
        ? `The conversation could not be loaded: ${state.loadError}`
        : "Loading the conversation…"}
    </p>
  ) : messages.length === 0 ? (
    <div className="flex flex-col items-center gap-2 py-10 text-center">
      <MessagesSquare size={24} aria-hidden className="text-fg-subtle" />
      <p className="text-[13px] font-medium">No messages yet</p>
      <p className="max-w-sm text-xs text-fg-muted">
        {harness} is ready in the sandbox. Write the first message below.
      </p>
    </div>
  ) : (
    <>
      {messages.map((m, i) =>
        m.info.role === "user" ? (
          <UserMessage
            key={m.info.id}
            message={m}
            seq={m.info.seq}
            queued={session.status === "creating" && i === messages.length - 1}
          />
        ) : (
          <AssistantMessage
            key={m.info.id}
            message={m}
            seq={m.info.seq}
            sessionId={session.id}
            running={m === running}
            ended={ended}
            stalledMs={m === running ? stalledMs : null}
          />
        ),
      )}
    </>
  );
}
