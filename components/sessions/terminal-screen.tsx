"use client";

import "@xterm/xterm/css/xterm.css";

import { Check, ClipboardPaste, Copy, ExternalLink, Eye, Keyboard } from "lucide-react";
import type { ReactNode, RefObject } from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { cn } from "@/lib/cn";

import { useCanPaste } from "./terminal-clipboard";
import type { Actions, Program } from "./terminal-connection";
import { LinkState } from "./terminal-link-state";
import type { Role, TerminalKind } from "./terminal-protocol";
import { TERMINAL_BACKGROUND } from "./terminal-theme";
import { useTerminal } from "./use-terminal";

/**
 * One terminal of a session (its TUI or a shell) in xterm.js, over the session's /tty WebSocket with
 * the browser's login cookie. The server holds the terminal: a reload or a dropped connection
 * reattaches to the same running program, and the server sends the current screen first.
 *
 * One client has the keyboard (the writer); others watch. `readOnly` connects as a viewer and never
 * types; an interactive view that loses the keyboard to another client can take it back.
 */
export function TerminalScreen({
  sessionId,
  kind,
  programLabel,
  readOnly,
  viewerRole = false,
  ended,
  endedReason,
  onDropped,
  tabs,
  panelId,
  tabId,
  readOnlyHref,
}: {
  sessionId: string;
  kind: TerminalKind;
  /** What runs in it, for messages: "Claude Code", "The shell". */
  programLabel: string;
  readOnly: boolean;
  /** The caller has the viewer role: read-only whatever the page, and said so. */
  viewerRole?: boolean;
  /** The session has ended: stop reconnecting. */
  ended: boolean;
  endedReason: string | null;
  /** The connection dropped: the caller re-reads the session, which may say it ended. */
  onDropped: () => void;
  tabs: ReactNode;
  panelId: string;
  tabId: string;
  readOnlyHref: string | null;
}) {
  const {
    hostRef,
    actions,
    loadError,
    link,
    role,
    writerAttached,
    program,
    reattached,
    hasSelection,
    copied,
    now,
  } = useTerminal({ sessionId, kind, readOnly, ended, onDropped });
  const lostKeyboard = !readOnly && role === "viewer" && link.state === "live";
  const exited = link.state === "live" && program.running === false && program.exit !== null;

  return (
    <>
      <div className="flex h-9 min-w-0 shrink-0 items-center gap-3 border-b border-border bg-bg-subtle pr-1.5 [section:first-child>&]:rounded-t-lg">
        {tabs}
        <LinkState
          link={link}
          now={now}
          reattached={reattached}
          endedReason={endedReason}
          onRetry={() => actions.current?.retryNow()}
        />
        <TerminalTools
          actions={actions}
          readOnly={readOnly}
          readOnlyHref={readOnlyHref}
          hasSelection={hasSelection}
          copied={copied}
          canType={link.state === "live" && role === "writer"}
        />
      </div>
      {viewerRole && !ended && (
        <div
          role="note"
          className="flex min-h-9 shrink-0 items-center gap-3 border-b border-border bg-bg-subtle px-3 py-1 text-xs text-fg-muted"
        >
          <Eye size={14} aria-hidden className="shrink-0" />
          You have the viewer role in this workspace: you can watch this terminal but not type in it.
        </div>
      )}
      {(lostKeyboard || exited) && (
        <TerminalNotice
          actions={actions}
          lostKeyboard={lostKeyboard}
          writerAttached={writerAttached}
          programLabel={programLabel}
          program={program}
          readOnly={readOnly}
          role={role}
        />
      )}
      <div
        role="tabpanel"
        id={panelId}
        aria-labelledby={tabId}
        className="relative min-h-0 flex-1 rounded-b-lg py-1.5 pl-2.5"
        style={{ background: TERMINAL_BACKGROUND }}
      >
        {/* FitAddon measures this element: it has no padding of its own. */}
        <div
          ref={hostRef}
          className={cn("h-full w-full overflow-hidden", link.state === "ended" && "opacity-80")}
        />
        {loadError && (
          <p role="alert" className="absolute inset-x-3 top-3 text-xs text-danger">
            The terminal could not be loaded: {loadError}
          </p>
        )}
      </div>
    </>
  );
}

/** The toolbar's buttons: copy, paste (where the clipboard can be read) and the read-only view. */
function TerminalTools({
  actions,
  readOnly,
  readOnlyHref,
  hasSelection,
  copied,
  canType,
}: {
  actions: RefObject<Actions | null>;
  readOnly: boolean;
  readOnlyHref: string | null;
  hasSelection: boolean;
  copied: boolean;
  /** Connected, with the keyboard. */
  canType: boolean;
}) {
  const canPaste = useCanPaste();
  return (
    <span className="ml-auto flex shrink-0 items-center gap-1">
      {readOnly && <Badge tone="accent">Read-only</Badge>}
      <Button
        size="icon"
        variant="ghost"
        aria-label={copied ? "Copied the selection" : "Copy the selection"}
        title="Copy the selection (Ctrl+Shift+C). Hold Shift to select when the program uses the mouse."
        disabled={!hasSelection}
        onClick={() => actions.current?.copy()}
      >
        {copied ? <Check size={13} aria-hidden /> : <Copy size={13} aria-hidden />}
      </Button>
      {canPaste && !readOnly && (
        <Button
          size="icon"
          variant="ghost"
          aria-label="Paste from the clipboard"
          title="Paste (Ctrl+Shift+V)"
          disabled={!canType}
          onClick={() =>
            void navigator.clipboard
              .readText()
              .then((text) => actions.current?.paste(text))
              .catch(() => undefined)
          }
        >
          <ClipboardPaste size={13} aria-hidden />
        </Button>
      )}
      {readOnlyHref && (
        <a
          href={readOnlyHref}
          target="_blank"
          rel="noopener"
          aria-label="Open read-only view"
          title="Opens a view of this terminal that watches without typing, in a new tab"
          className="inline-flex h-7 items-center gap-1.5 rounded-md px-2 text-xs font-medium text-fg-muted hover:bg-bg-muted hover:text-fg"
        >
          <ExternalLink size={12} aria-hidden />
          <span className="hidden md:inline">Open read-only view</span>
        </a>
      )}
    </span>
  );
}

/** Why this view does not type: another client has the keyboard, or the program exited. */
function TerminalNotice({
  actions,
  lostKeyboard,
  writerAttached,
  programLabel,
  program,
  readOnly,
  role,
}: {
  actions: RefObject<Actions | null>;
  lostKeyboard: boolean;
  writerAttached: boolean;
  programLabel: string;
  program: Program;
  readOnly: boolean;
  role: Role | null;
}) {
  return (
    <div
      role="status"
      className="flex min-h-9 shrink-0 items-center gap-3 border-b border-border bg-warning-subtle px-3 py-1 text-xs"
    >
      <Keyboard size={14} aria-hidden className="shrink-0 text-warning" />
      {lostKeyboard ? (
        <>
          <span className="min-w-0 flex-1">
            {writerAttached
              ? "Another client is typing. This view is read-only until you take over."
              : "This view is read-only: the keyboard is free."}
          </span>
          <Button size="sm" onClick={() => actions.current?.takeOver()}>
            Take over
          </Button>
        </>
      ) : (
        <span className="min-w-0 flex-1">
          {programLabel} exited with code {program.exit?.code}.
          {!readOnly && role === "writer" && " Press Enter in the terminal to start it again."}
        </span>
      )}
    </div>
  );
}
