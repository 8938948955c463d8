import { useEffect, useRef, useState } from "react";

import {
  loadXterm,
  TerminalConnection,
  type Actions,
  type Link,
  type Program,
  type XtermModules,
} from "./terminal-connection";
import type { Role, TerminalKind } from "./terminal-protocol";

/**
 * Runs a session's terminal in the element `hostRef` points at, and keeps what the toolbar shows
 * as state: the connection, the client's role, the program's run, the selection. xterm.js loads on
 * first use; a new session, kind or `readOnly` starts a new connection.
 */
export function useTerminal({
  sessionId,
  kind,
  readOnly,
  ended,
  onDropped,
}: {
  sessionId: string;
  kind: TerminalKind;
  readOnly: boolean;
  ended: boolean;
  onDropped: () => void;
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
    let connection: TerminalConnection | null = null;

    void (async () => {
      let modules: XtermModules;
      try {
        modules = await loadXterm();
      } catch (err) {
        if (!disposed) setLoadError((err as Error).message);
        return;
      }
      if (disposed) return;
      connection = new TerminalConnection(
        modules,
        host,
        {
          sessionId,
          kind,
          readOnly,
          isEnded: () => endedRef.current,
          onDropped: () => droppedRef.current(),
        },
        {
          setLink,
          setStatus: (status) => {
            setRole(status.role);
            setWriterAttached(status.writer_attached);
            setProgram({ running: status.running, exit: status.exit });
          },
          setReattached,
          setHasSelection,
          setCopied,
        },
      );
      actions.current = connection;
    })();

    return () => {
      disposed = true;
      actions.current = null;
      connection?.dispose();
    };
  }, [sessionId, kind, readOnly]);

  return {
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
  };
}
