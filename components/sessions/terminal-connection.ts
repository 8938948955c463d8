import type { FitAddon } from "@xterm/addon-fit";
import type { Terminal } from "@xterm/xterm";

import { clipboardKeys, writeClipboard } from "./terminal-clipboard";
import { terminalUrl, type Role, type StatusFrame, type TerminalKind } from "./terminal-protocol";
import { TERMINAL_FONT_SIZE, TERMINAL_OPTIONS } from "./terminal-theme";

export type Link =
  | { state: "connecting" }
  | { state: "live" }
  /** `at`: when the next attempt starts (epoch ms); null while that attempt runs. */
  | { state: "reconnecting"; attempt: number; at: number | null }
  | { state: "ended" };

export type Program = { running: boolean | null; exit: StatusFrame["exit"] };

/** What the toolbar can ask of a connected terminal. */
export type Actions = {
  /** The session ended: stop any pending reconnection. */
  stop: () => void;
  takeOver: () => void;
  retryNow: () => void;
  copy: () => void;
  paste: (text: string) => void;
};

/** Where the connection reports what the page shows. */
export type TerminalView = {
  setLink: (link: Link) => void;
  setStatus: (status: StatusFrame) => void;
  setReattached: (reattached: boolean) => void;
  setHasSelection: (hasSelection: boolean) => void;
  setCopied: (copied: boolean) => void;
};

export type TerminalOptions = {
  sessionId: string;
  kind: TerminalKind;
  readOnly: boolean;
  /** Read at each (re)connection: true once the session has ended. */
  isEnded: () => boolean;
  /** The connection dropped while the session looked alive. */
  onDropped: () => void;
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
export const loadXterm = () => Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]);

export type XtermModules = Awaited<ReturnType<typeof loadXterm>>;

/**
 * An xterm.js terminal in `host`, attached to the session's /tty WebSocket: it reconnects with backoff
 * while the session runs, holds the server's first screen until it knows the size it was drawn at,
 * and follows the writer/viewer role the status frames give it.
 */
export class TerminalConnection implements Actions {
  private readonly term: Terminal;
  private readonly fit: FitAddon;
  private readonly encoder = new TextEncoder();
  private readonly observer: ResizeObserver;
  private readonly ping: ReturnType<typeof setInterval>;
  private ws: WebSocket | null = null;
  private role: Role | null = null;
  // Someone else took the keyboard: a reconnection watches instead of taking it back.
  private asViewer: boolean;
  private attempt = 0;
  private hadScreen = false;
  private disposed = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private reattachedTimer: ReturnType<typeof setTimeout> | undefined;
  private sentSize = "";
  private ptySize: { cols: number; rows: number } | null = null;

  constructor(
    [{ Terminal }, { FitAddon }]: XtermModules,
    host: HTMLElement,
    private readonly options: TerminalOptions,
    private readonly view: TerminalView,
  ) {
    const term = new Terminal({ ...TERMINAL_OPTIONS, disableStdin: options.readOnly });
    this.term = term;
    this.fit = new FitAddon();
    term.loadAddon(this.fit);
    term.open(host);
    this.asViewer = options.readOnly;

    this.observer = new ResizeObserver(() => {
      clearTimeout(this.resizeTimer);
      this.resizeTimer = setTimeout(() => this.layout(), RESIZE_DEBOUNCE_MS);
    });
    this.observer.observe(host);
    this.fit.fit();

    term.onData((data) => this.sendBytes(this.encoder.encode(data)));
    term.onBinary((data) => this.sendBytes(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));
    term.onSelectionChange(() => view.setHasSelection(term.hasSelection()));
    term.attachCustomKeyEventHandler(clipboardKeys(term, () => this.copy()));

    this.ping = setInterval(() => this.sendJson({ type: "ping" }), PING_EVERY_MS);
    window.addEventListener("online", this.onOnline);

    if (options.isEnded()) this.endScreen();
    else this.connect();
  }

  /** Closes the connection and the terminal; nothing reconnects afterwards. */
  dispose() {
    this.disposed = true;
    clearInterval(this.ping);
    window.removeEventListener("online", this.onOnline);
    const socket = this.ws;
    this.ws = null;
    socket?.close(1000, "closed by the page");
    this.observer.disconnect();
    clearTimeout(this.retryTimer);
    clearTimeout(this.resizeTimer);
    clearTimeout(this.reattachedTimer);
    this.term.dispose();
  }

  takeOver() {
    this.asViewer = false;
    this.sendJson({ type: "takeover" });
    this.term.focus();
  }

  stop() {
    clearTimeout(this.retryTimer);
    if (!this.ws) this.endScreen();
  }

  retryNow() {
    if (!this.ws) this.connect();
  }

  copy() {
    const text = this.term.getSelection();
    if (!text) return;
    void writeClipboard(text).then(() => {
      this.view.setCopied(true);
      setTimeout(() => this.view.setCopied(false), 1500);
    });
  }

  paste(text: string) {
    this.term.paste(text);
    this.term.focus();
  }

  private readonly onOnline = () => {
    if (!this.ws && !this.options.isEnded()) this.connect();
  };

  private isWriter() {
    return !this.options.readOnly && this.role === "writer";
  }

  private sendBytes(bytes: Uint8Array) {
    // Binary frames are never read as JSON commands, whatever the keystrokes or the paste hold.
    if (this.ws?.readyState === WebSocket.OPEN && this.isWriter()) this.ws.send(bytes);
  }

  private sendJson(message: object) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /**
   * The writer's terminal takes the pane's size, and asks the program for it. A viewer shows the
   * writer's layout (the size in the status frames), with a smaller font when the pane is smaller;
   * it still sends its own size, which the server keeps for a takeover.
   */
  private layout() {
    const term = this.term;
    if (term.options.fontSize !== TERMINAL_FONT_SIZE) term.options.fontSize = TERMINAL_FONT_SIZE;
    const room = this.fit.proposeDimensions();
    if (!room || !Number.isFinite(room.cols) || !Number.isFinite(room.rows)) return;
    const key = `${room.cols}x${room.rows}`;
    if (key !== this.sentSize && this.ws?.readyState === WebSocket.OPEN) {
      this.sentSize = key;
      this.sendJson({ type: "resize", cols: room.cols, rows: room.rows });
    }
    const size = this.isWriter() ? room : this.ptySize;
    if (!size) return;
    if (!this.isWriter() && (room.cols < size.cols || room.rows < size.rows)) {
      const scale = Math.min(room.cols / size.cols, room.rows / size.rows);
      term.options.fontSize = Math.max(MIN_VIEWER_FONT, Math.floor(TERMINAL_FONT_SIZE * scale * 2) / 2);
    }
    if (term.cols !== size.cols || term.rows !== size.rows) term.resize(size.cols, size.rows);
  }

  // The last screen stays, without a cursor that suggests it still takes input.
  private endScreen() {
    this.term.write("\x1b[?25l");
    this.view.setLink({ state: "ended" });
  }

  private connect() {
    clearTimeout(this.retryTimer);
    if (this.disposed || this.options.isEnded()) return;
    const { term, view } = this;
    const socket = new WebSocket(terminalUrl(this.options.sessionId, this.options.kind, this.asViewer));
    socket.binaryType = "arraybuffer";
    this.ws = socket;
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
      const ptySize = this.ptySize;
      if (ptySize && (term.cols !== ptySize.cols || term.rows !== ptySize.rows))
        term.resize(ptySize.cols, ptySize.rows);
      for (const bytes of held) term.write(bytes);
      held = [];
      phase = "live";
      this.layout();
      if (this.hadScreen) {
        view.setReattached(true);
        clearTimeout(this.reattachedTimer);
        this.reattachedTimer = setTimeout(() => view.setReattached(false), REATTACHED_FOR_MS);
      } else if (!this.options.readOnly) term.focus();
      this.hadScreen = true;
      liveSince = Date.now();
      view.setLink({ state: "live" });
    };

    const onStatus = (status: StatusFrame) => {
      if (this.role === "writer" && status.role === "viewer") this.asViewer = true;
      if (status.role === "writer") this.asViewer = false;
      this.role = status.role;
      term.options.disableStdin = !this.isWriter();
      view.setStatus(status);
      if (status.cols && status.rows) this.ptySize = { cols: status.cols, rows: status.rows };
      if (phase === "sizing") showScreen();
      else if (phase === "live") this.layout();
    };

    socket.onopen = () => {
      this.sentSize = "";
      this.layout();
    };
    socket.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (this.ws !== socket) return;
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
      if (this.ws !== socket || this.disposed) return;
      this.ws = null;
      // Whatever arrived (an error line from the server) is still worth showing.
      for (const bytes of held) term.write(bytes);
      held = [];
      term.options.disableStdin = true;
      if (this.options.isEnded()) {
        this.endScreen();
        return;
      }
      this.options.onDropped();
      // A connection that drops right after it attached keeps backing off.
      if (liveSince && Date.now() - liveSince > STABLE_AFTER_MS) this.attempt = 0;
      this.scheduleRetry();
    };
  }

  private scheduleRetry() {
    const delay = BACKOFF_S[Math.min(this.attempt, BACKOFF_S.length - 1)]! * 1000;
    this.attempt += 1;
    this.view.setReattached(false);
    this.view.setLink({ state: "reconnecting", attempt: this.attempt, at: Date.now() + delay });
    this.retryTimer = setTimeout(() => {
      this.view.setLink({ state: "reconnecting", attempt: this.attempt, at: null });
      this.connect();
    }, delay);
  }
}
