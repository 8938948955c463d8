/** `tui`: the harness's own terminal program; `shell`: a login shell in the sandbox. */
export type TerminalKind = "tui" | "shell";

export type Role = "writer" | "viewer";

/** The `?meta=1` status frame of lib/pty/terminals.ts. */
export type StatusFrame = {
  type: "status";
  role: Role;
  clients: number;
  writer_attached: boolean;
  cols: number | null;
  rows: number | null;
  running: boolean | null;
  exit: { code: number; signal: number | null; at: string } | null;
};

export function terminalUrl(sessionId: string, kind: TerminalKind, view: boolean) {
  const query = new URLSearchParams({ meta: "1" });
  if (view) query.set("mode", "view");
  if (kind === "shell") query.set("terminal", "shell");
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/api/v1/managed_agents/sessions/${encodeURIComponent(sessionId)}/tty?${query}`;
}
