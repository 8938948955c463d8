import { Terminal } from "@xterm/headless";

import type { PtyConnection, PtyEvents, PtyStatus } from "@/lib/pty/client";

type Attach = (events: Partial<PtyEvents>) => Promise<PtyConnection>;

/** The rendered screen as text, and a wait for some text (or pattern) to appear on it. */
export function screenReader(term: Terminal, defaultTimeoutMs: number) {
  const screen = async () => {
    await new Promise<void>((resolve) => term.write("", resolve));
    const lines: string[] = [];
    const buffer = term.buffer.active;
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? "");
    return lines.join("\n");
  };
  const waitFor = async (text: string | RegExp, timeoutMs = defaultTimeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await screen();
      if (typeof text === "string" ? now.includes(text) : text.test(now)) return now;
      if (Date.now() > deadline) throw new Error(`${String(text)} never appeared; screen:\n${now}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return { screen, waitFor };
}

/**
 * A terminal client for tests that renders what it receives into a headless xterm, as a browser
 * would, so assertions read the screen a person would see.
 */
export async function renderedTerminal(attach: Attach, size = { cols: 120, rows: 32 }) {
  const term = new Terminal({ ...size, allowProposedApi: true });
  let status: PtyStatus | null = null;
  let closed = false;
  let snapshot: string | null = null;
  const connection = await attach({
    snapshot: (screen) => {
      snapshot = screen;
      term.write(screen);
    },
    output: (bytes) => term.write(bytes),
    status: (s) => (status = s),
    close: () => (closed = true),
  });
  const { screen, waitFor } = screenReader(term, 10_000);
  return {
    connection,
    term,
    screen,
    waitFor,
    status: () => status,
    closed: () => closed,
    snapshot: () => snapshot,
  };
}

/**
 * A WebSocket terminal client speaking the reference product's framing, rendering into a headless
 * xterm. `meta` asks for Hangar's JSON status frames too.
 */
export async function wsTerminal(
  url: string,
  opts: { headers?: Record<string, string>; size?: { cols: number; rows: number } } = {},
) {
  const { WebSocket } = await import("ws");
  const size = opts.size ?? { cols: 120, rows: 32 };
  const term = new Terminal({ ...size, allowProposedApi: true });
  const statuses: Record<string, unknown>[] = [];
  const socket = new WebSocket(url, { headers: opts.headers });
  let closed: { code: number; reason: string } | null = null;
  socket.on("message", (data, isBinary) => {
    if (isBinary) term.write(new Uint8Array(data as Buffer));
    else statuses.push(JSON.parse(String(data)));
  });
  socket.on("close", (code, reason) => (closed = { code, reason: String(reason) }));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
    socket.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  const { screen, waitFor } = screenReader(term, 15_000);
  return {
    socket,
    term,
    screen,
    waitFor,
    statuses,
    closed: () => closed,
    type: (text: string) => socket.send(text),
    resize: (cols: number, rows: number) => {
      term.resize(cols, rows);
      socket.send(JSON.stringify({ type: "resize", cols, rows }));
    },
    close: () => socket.close(),
  };
}

/** The HTTP status a refused WebSocket upgrade answered with. */
export async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const { WebSocket } = await import("ws");
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.once("open", () => {
      socket.close();
      resolve(101);
    });
    socket.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    socket.once("error", () => undefined);
  });
}
