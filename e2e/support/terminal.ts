import { Terminal } from "@xterm/headless";

import type { PtyConnection, PtyEvents, PtyStatus } from "@/lib/pty/client";

type Attach = (events: Partial<PtyEvents>) => Promise<PtyConnection>;

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
  const screen = async () => {
    await new Promise<void>((resolve) => term.write("", resolve));
    const lines: string[] = [];
    const buffer = term.buffer.active;
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? "");
    return lines.join("\n");
  };
  const waitFor = async (text: string | RegExp, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await screen();
      if (typeof text === "string" ? now.includes(text) : text.test(now)) return now;
      if (Date.now() > deadline) throw new Error(`${String(text)} never appeared; screen:\n${now}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
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
