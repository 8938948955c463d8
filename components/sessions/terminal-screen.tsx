"use client";

import "@xterm/xterm/css/xterm.css";

import { Check, ClipboardPaste, Copy, ExternalLink, Keyboard, LoaderCircle, RotateCw } from "lucide-react";
import { useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { cn } from "@/lib/cn";

import { TERMINAL_BACKGROUND, TERMINAL_FONT_SIZE, TERMINAL_OPTIONS } from "./terminal-theme";

/** `tui`: the harness's own terminal program; `shell`: a login shell in the sandbox. */
export type TerminalKind = "tui" | "shell";

type Role = "writer" | "viewer";

/** The `?meta=1` status frame of lib/pty/terminals.ts. */
type StatusFrame = {
  type: "status";
  role: Role;
  clients: number;
  writer_attached: boolean;
  cols: number | null;
  rows: number | null;
  running: boolean | null;
  exit: { code: number; signal: number | null; at: string } | null;
};

type Link =
  | { state: "connecting" }
  | { state: "live" }
  /** `at`: when the next attempt starts (epoch ms); null while that attempt runs. */
  | { state: "reconnecting"; attempt: number; at: number | null }
  | { state: "ended" };

type Program = { running: boolean | null; exit: StatusFrame["exit"] };

type Actions = {
  /** The session ended: stop any pending reconnection. */
  stop: () => void;
  takeOver: () => void;
  retryNow: () => void;
  copy: () => void;
  paste: (text: string) => void;
};

/** Seconds between reconnection attempts: doubling, capped at 30 s, for as long as the session runs. */
const BACKOFF_S = [1, 2, 4, 8, 16, 30];
// Keeps idle proxies (load balancers with 60 s idle timeouts) from closing a quiet terminal.
const PING_EVERY_MS = 30_000;
const REATTACHED_FOR_MS = 4000;
const RESIZE_DEBOUNCE_MS = 80;
// The holder sends the screen, then a status frame with the size it was drawn at; wait that long at most.
const SNAPSHOT_SIZE_WAIT_MS = 500;
const MIN_VIEWER_FONT = 7;
const STABLE_AFTER_MS = 10_000;

// xterm.js is loaded on first use, so pages without a terminal never download it.
const loadXterm = () => Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]);

const subscribeNever = () => () => {};
const clipboardReadable = () => typeof navigator.clipboard?.readText === "function";

export function terminalUrl(sessionId: string, kind: TerminalKind, view: boolean) {
  const query = new URLSearchParams({ meta: "1" });
  if (view) query.set("mode", "view");
  if (kind === "shell") query.set("terminal", "shell");
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/api/v1/managed_agents/sessions/${encodeURIComponent(sessionId)}/tty?${query}`;
}

/** navigator.clipboard needs a secure context; a self-hosted Hangar on plain http falls back to execCommand. */
async function writeClipboard(text: string) {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Fall through.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

function LinkState({
  link,
  now,
  reattached,
  endedReason,
  onRetry,
}: {
  link: Link;
  now: number;
  reattached: boolean;
  endedReason: string | null;
  onRetry: () => void;
}) {
  let body: ReactNode;
  if (link.state === "live")
    body = reattached ? (
      <span className="flex items-center gap-1.5 text-success">
        <Check size={12} aria-hidden />
        Reattached — the session kept running
      </span>
    ) : (
      <span className="flex items-center gap-1.5 text-success">
        <span aria-hidden className="h-1.5 w-1.5 rounded-full bg-current" />
        Live
      </span>
    );
  else if (link.state === "connecting")
    body = (
      <span className="flex items-center gap-1.5 text-fg-muted">
        <LoaderCircle size={11} aria-hidden className="motion-safe:animate-spin" />
        Connecting…
      </span>
    );
  else if (link.state === "reconnecting") {
    const seconds = link.at === null ? 0 : Math.max(0, Math.ceil((link.at - now) / 1000));
    body = (
      <span className="flex min-w-0 items-center gap-1.5 text-warning">
        <LoaderCircle size={11} aria-hidden className="shrink-0 motion-safe:animate-spin" />
        <span className="truncate">
          {seconds > 0 ? `Connection lost. Reconnecting in ${seconds} s` : "Reconnecting…"}
          <span className="text-fg-muted"> · attempt {link.attempt}</span>
        </span>
        {seconds > 0 && (
          <Button size="sm" variant="ghost" onClick={onRetry} className="h-6 px-1.5 text-[11px]">
            <RotateCw size={11} aria-hidden />
            Retry now
          </Button>
        )}
      </span>
    );
  } else
    body = (
      <span className="flex min-w-0 items-center gap-1.5 text-fg-muted">
        <span aria-hidden className="h-1.5 w-1.5 shrink-0 rounded-full bg-fg-subtle" />
        <span className="truncate" title={endedReason ?? undefined}>
          Session ended{endedReason ? `: ${endedReason}` : ""}
        </span>
      </span>
    );
  return (
    <span role="status" aria-label="Terminal connection" className="min-w-0 text-[11px] font-medium">
      {body}
    </span>
  );
}

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
  const hostRef = useRef<HTMLDivElement>(null);
  const actions = useRef<Actions | null>(null);
  const endedRef = useRef(ended);
  const droppedRef = useRef(onDropped);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [link, setLink] = useState<Link>({ state: "connecting" });
  const [role, setRole] = useState<Role | null>(null);
  const [writerAttached, setWriterAttached] = useState(false);
  const [program, setProgram] = useState<Program>({ running: null, exit: null });
  const [reattached, setReattached] = useState(false);
  const [hasSelection, setHasSelection] = useState(false);
  const [copied, setCopied] = useState(false);
  const canPaste = useSyncExternalStore(subscribeNever, clipboardReadable, () => false);
  const [now, setNow] = useState(0);

  useEffect(() => {
    droppedRef.current = onDropped;
  }, [onDropped]);

  // The session ended: whatever connection is left closes on its own; nothing reconnects.
  useEffect(() => {
    endedRef.current = ended;
    if (ended) actions.current?.stop();
  }, [ended]);

  // A ticking clock only while a countdown is shown.
  useEffect(() => {
    if (link.state !== "reconnecting" || link.at === null) return;
    const tick = () => setNow(Date.now());
    tick();
    const interval = setInterval(tick, 250);
    return () => clearInterval(interval);
  }, [link]);

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    let disposed = false;
    const cleanups: (() => void)[] = [];

    void (async () => {
      let modules: Awaited<ReturnType<typeof loadXterm>>;
      try {
        modules = await loadXterm();
      } catch (err) {
        if (!disposed) setLoadError((err as Error).message);
        return;
      }
      if (disposed) return;
      const [{ Terminal }, { FitAddon }] = modules;
      const term = new Terminal({ ...TERMINAL_OPTIONS, disableStdin: readOnly });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(host);
      cleanups.push(() => term.dispose());

      const encoder = new TextEncoder();
      let ws: WebSocket | null = null;
      let role: Role | null = null;
      // Someone else took the keyboard: a reconnection watches instead of taking it back.
      let asViewer = readOnly;
      let attempt = 0;
      let hadScreen = false;
      let retryTimer: ReturnType<typeof setTimeout> | undefined;
      let resizeTimer: ReturnType<typeof setTimeout> | undefined;
      let reattachedTimer: ReturnType<typeof setTimeout> | undefined;
      let sentSize = "";
      let ptySize: { cols: number; rows: number } | null = null;
      cleanups.push(() => {
        clearTimeout(retryTimer);
        clearTimeout(resizeTimer);
        clearTimeout(reattachedTimer);
      });

      const isWriter = () => !readOnly && role === "writer";

      const sendBytes = (bytes: Uint8Array) => {
        // Binary frames are never read as JSON commands, whatever the keystrokes or the paste hold.
        if (ws?.readyState === WebSocket.OPEN && isWriter()) ws.send(bytes);
      };
      const sendJson = (message: object) => {
        if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
      };

      /**
       * The writer's terminal takes the pane's size, and asks the program for it. A viewer shows the
       * writer's layout (the size in the status frames), with a smaller font when the pane is smaller;
       * it still sends its own size, which the server keeps for a takeover.
       */
      const layout = () => {
        if (term.options.fontSize !== TERMINAL_FONT_SIZE) term.options.fontSize = TERMINAL_FONT_SIZE;
        const room = fit.proposeDimensions();
        if (!room || !Number.isFinite(room.cols) || !Number.isFinite(room.rows)) return;
        const key = `${room.cols}x${room.rows}`;
        if (key !== sentSize && ws?.readyState === WebSocket.OPEN) {
          sentSize = key;
          sendJson({ type: "resize", cols: room.cols, rows: room.rows });
        }
        const size = isWriter() ? room : ptySize;
        if (!size) return;
        if (!isWriter() && (room.cols < size.cols || room.rows < size.rows)) {
          const scale = Math.min(room.cols / size.cols, room.rows / size.rows);
          term.options.fontSize = Math.max(MIN_VIEWER_FONT, Math.floor(TERMINAL_FONT_SIZE * scale * 2) / 2);
        }
        if (term.cols !== size.cols || term.rows !== size.rows) term.resize(size.cols, size.rows);
      };

      const observer = new ResizeObserver(() => {
        clearTimeout(resizeTimer);
        resizeTimer = setTimeout(layout, RESIZE_DEBOUNCE_MS);
      });
      observer.observe(host);
      cleanups.push(() => observer.disconnect());
      fit.fit();

      term.onData((data) => sendBytes(encoder.encode(data)));
      term.onBinary((data) => sendBytes(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));
      term.onSelectionChange(() => setHasSelection(term.hasSelection()));

      const copy = () => {
        const text = term.getSelection();
        if (!text) return;
        void writeClipboard(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      };

      term.attachCustomKeyEventHandler((e) => {
        const mod = e.ctrlKey || e.metaKey;
        if (mod && e.shiftKey && e.code === "KeyC") {
          if (e.type === "keydown") {
            e.preventDefault();
            copy();
          }
          return false;
        }
        // Ctrl/Cmd+Shift+V: the browser pastes into xterm's textarea, and xterm brackets the paste
        // when the program asked for bracketed paste.
        if (mod && e.shiftKey && e.code === "KeyV") return false;
        // Cmd+C with a selection copies (the browser's copy event); without one it is the program's.
        if (e.metaKey && !e.shiftKey && e.code === "KeyC" && term.hasSelection()) return false;
        return true;
      });

      // The last screen stays, without a cursor that suggests it still takes input.
      const endScreen = () => {
        term.write("\x1b[?25l");
        setLink({ state: "ended" });
      };

      const connect = () => {
        clearTimeout(retryTimer);
        if (disposed || endedRef.current) return;
        const socket = new WebSocket(terminalUrl(sessionId, kind, asViewer));
        socket.binaryType = "arraybuffer";
        ws = socket;
        // The first output is the current screen, drawn at the size the next status frame names: it
        // is held until then, and written at that size.
        let phase: "screen" | "sizing" | "live" = "screen";
        let held: Uint8Array[] = [];
        let sizingTimer: ReturnType<typeof setTimeout> | undefined;
        let liveSince = 0;

        const showScreen = () => {
          clearTimeout(sizingTimer);
          // The server starts with the whole screen: nothing from before may stay and double it.
          term.reset();
          if (ptySize && (term.cols !== ptySize.cols || term.rows !== ptySize.rows))
            term.resize(ptySize.cols, ptySize.rows);
          for (const bytes of held) term.write(bytes);
          held = [];
          phase = "live";
          layout();
          if (hadScreen) {
            setReattached(true);
            clearTimeout(reattachedTimer);
            reattachedTimer = setTimeout(() => setReattached(false), REATTACHED_FOR_MS);
          } else if (!readOnly) term.focus();
          hadScreen = true;
          liveSince = Date.now();
          setLink({ state: "live" });
        };

        const onStatus = (status: StatusFrame) => {
          if (role === "writer" && status.role === "viewer") asViewer = true;
          if (status.role === "writer") asViewer = false;
          role = status.role;
          term.options.disableStdin = !isWriter();
          setRole(status.role);
          setWriterAttached(status.writer_attached);
          setProgram({ running: status.running, exit: status.exit });
          if (status.cols && status.rows) ptySize = { cols: status.cols, rows: status.rows };
          if (phase === "sizing") showScreen();
          else if (phase === "live") layout();
        };

        socket.onopen = () => {
          sentSize = "";
          layout();
        };
        socket.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
          if (ws !== socket) return;
          if (typeof e.data === "string") {
            let frame: unknown;
            try {
              frame = JSON.parse(e.data);
            } catch {
              return;
            }
            if ((frame as StatusFrame | null)?.type === "status") onStatus(frame as StatusFrame);
            return;
          }
          const bytes = new Uint8Array(e.data);
          if (phase === "live") term.write(bytes);
          else {
            held.push(bytes);
            if (phase === "screen") {
              phase = "sizing";
              sizingTimer = setTimeout(showScreen, SNAPSHOT_SIZE_WAIT_MS);
            }
          }
        };
        socket.onclose = () => {
          clearTimeout(sizingTimer);
          if (ws !== socket || disposed) return;
          ws = null;
          // Whatever arrived (an error line from the server) is still worth showing.
          for (const bytes of held) term.write(bytes);
          held = [];
          term.options.disableStdin = true;
          if (endedRef.current) {
            endScreen();
            return;
          }
          droppedRef.current();
          // A connection that drops right after it attached keeps backing off.
          if (liveSince && Date.now() - liveSince > STABLE_AFTER_MS) attempt = 0;
          const delay = BACKOFF_S[Math.min(attempt, BACKOFF_S.length - 1)]! * 1000;
          attempt += 1;
          setReattached(false);
          setLink({ state: "reconnecting", attempt, at: Date.now() + delay });
          retryTimer = setTimeout(() => {
            setLink({ state: "reconnecting", attempt, at: null });
            connect();
          }, delay);
        };
      };

      const ping = setInterval(() => sendJson({ type: "ping" }), PING_EVERY_MS);
      const onOnline = () => {
        if (!ws && !endedRef.current) connect();
      };
      window.addEventListener("online", onOnline);
      cleanups.push(() => {
        clearInterval(ping);
        window.removeEventListener("online", onOnline);
        const socket = ws;
        ws = null;
        socket?.close(1000, "closed by the page");
      });

      actions.current = {
        takeOver: () => {
          asViewer = false;
          sendJson({ type: "takeover" });
          term.focus();
        },
        stop: () => {
          clearTimeout(retryTimer);
          if (!ws) endScreen();
        },
        retryNow: () => {
          if (!ws) connect();
        },
        copy,
        paste: (text) => {
          term.paste(text);
          term.focus();
        },
      };
      cleanups.push(() => (actions.current = null));

      if (endedRef.current) endScreen();
      else connect();
    })();

    return () => {
      disposed = true;
      for (const cleanup of cleanups.reverse()) cleanup();
    };
  }, [sessionId, kind, readOnly]);

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
              disabled={link.state !== "live" || role !== "writer"}
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
      </div>
      {(lostKeyboard || exited) && (
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
