import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

import { WebSocket, WebSocketServer, type RawData } from "ws";

import { getSessionRow } from "@/db/queries/sessions";
import { assertRole, authorize } from "@/lib/api/access";
import { authenticate, bearerToken, principalOfCredential, type Principal } from "@/lib/api/auth";
import { ApiError, asApiError } from "@/lib/api/errors";
import type { RequestLike } from "@/lib/api/transport";
import { NotFoundError } from "@/lib/errors";
import { withSessionEnv } from "@/lib/harness";
import { log } from "@/lib/log";
import { processSlot } from "@/lib/process-slot";
import type { PtyConnection, PtyStatus } from "@/lib/pty/client";
import { roleAllows } from "@/lib/schemas/roles";
import { markActive } from "@/lib/sessions/activity";
import { TUI_TERMINAL } from "@/lib/sessions/launch";
import { sessionManager } from "@/lib/sessions/manager";
import { recordAudit } from "@/lib/teams/audit";
import { watchCredentials } from "@/lib/teams/revocation";

import { isTtyToken, verifyTtyToken } from "./tokens";

/*
 * GET /api/v1/managed_agents/sessions/{id}/tty, upgraded to a WebSocket: the session's terminal.
 *
 * Framing is the reference product's, so its `lap` CLI works: client → server text frames are
 * keystrokes, binary frames raw bytes, and a text frame that parses as JSON `{"type":"resize",cols,rows}`
 * resizes, `{"type":"ping"}` is ignored; server → client binary frames are raw terminal output.
 * A client that asks for `?meta=1` also gets JSON text frames `{"type":"status", role, cols, rows,
 * running, ...}` (the browser viewer uses them), and may send `{"type":"takeover"}`.
 *
 * The terminal belongs to the session (lib/pty/holder.mjs), not to the socket: clients come and go.
 * Each client gets the current screen first, then live output. One client writes; the others watch
 * (`?mode=view`). A client connecting to write takes the keyboard, and the previous writer becomes a
 * viewer; a viewer can take it back with `{"type":"takeover"}`. The terminal has the writer's size:
 * viewers see the writer's layout (their resize frames are ignored). `?terminal=shell` opens a login
 * shell in the sandbox instead (any harness), held the same way.
 */

/** `?terminal=shell`: a login shell in the session's sandbox, for any harness. */
export const SHELL_TERMINAL = "shell";

export const TTY_PATH = /^\/api\/v1\/managed_agents\/sessions\/([^/?]+)\/tty(?:\?(.*))?$/;

type Role = "writer" | "viewer";
type Client = {
  socket: WebSocket;
  role: Role;
  meta: boolean;
  /** Opened with a terminal token: revoking the session's tokens closes it. */
  viaToken: boolean;
  /** The caller's role allows typing (operator and up); a viewer never gets the keyboard. */
  canWrite: boolean;
  principal: Principal;
  pty: PtyConnection | null;
  size: { cols: number; rows: number } | null;
};
type Terminal = { clients: Set<Client>; status: PtyStatus | null; lastTouch: number };

const terminals = processSlot("terminals", () => new Map<string, Terminal>());
const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
const TOUCH_EVERY_MS = 10_000;
const PING_EVERY_MS = 30_000;

/** Answers an upgrade with a plain HTTP error (the JSON envelope) and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, code: string, message: string) {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

function requestLike(req: IncomingMessage): RequestLike {
  return {
    method: "GET",
    url: req.url ?? "/",
    headers: {
      get: (name) => {
        const value = req.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(", ") : (value ?? null);
      },
    },
    body: null,
    signal: new AbortController().signal,
  };
}

/**
 * The session's token (query or bearer), an API key, the master key, or the browser's login cookie
 * (same origin). A token is checked against the session row's current generation, so a revoked one
 * fails, and its holder's credential must still work in the session's workspace. Either way the
 * caller needs the viewer role; typing needs operator (a token says which it was minted with).
 */
async function authorise(req: IncomingMessage, sessionId: string, query: URLSearchParams) {
  const bearer = bearerToken(req.headers.authorization ?? null);
  const token = query.get("token") ?? (bearer && isTtyToken(bearer) ? bearer : null);
  if (token !== null) {
    // An unknown session answers like a bad token: a token holder learns nothing about other ids.
    const row = await getSessionRow(sessionId).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    const holder = row ? verifyTtyToken(row, token) : null;
    if (!row || !holder) {
      throw new ApiError(
        "unauthorized",
        "This terminal token is not valid for this session (or has expired, or was revoked)",
      );
    }
    const principal = await principalOfCredential(holder.credential, row.workspaceId);
    assertRole(principal, "viewer");
    const canWrite = holder.mode === "write" && roleAllows(principal.role, "operator");
    return { row, viaToken: true, principal, canWrite };
  }
  const like = requestLike(req);
  const principal = await authenticate(like);
  // A WebSocket is not subject to CORS: a cookie-authenticated upgrade must come from Hangar's pages.
  if (principal.login) {
    const origin = req.headers.origin;
    const host = req.headers["x-forwarded-host"] ?? req.headers.host;
    if (!origin || !URL.canParse(origin) || new URL(origin).host !== host) {
      throw new ApiError("forbidden", "Cross-site terminal connection refused");
    }
  }
  await authorize(principal, "viewer", { kind: "session", id: sessionId });
  const canWrite = roleAllows(principal.role, "operator");
  return { row: await getSessionRow(sessionId), viaToken: false, principal, canWrite };
}

/**
 * After the session's tokens were revoked: closes this process's terminal clients that came in with
 * one (a token's holder keeps no open door). Clients of other replicas notice at their next connect.
 */
export function closeTokenClients(sessionId: string) {
  for (const [key, terminal] of terminals) {
    if (!key.startsWith(`${sessionId}/`)) continue;
    for (const client of terminal.clients) {
      if (client.viaToken) client.socket.close(4401, "terminal token revoked");
    }
  }
}

function send(client: Client, data: Buffer | string) {
  if (client.socket.readyState === WebSocket.OPEN) client.socket.send(data);
}

function sendStatus(client: Client, terminal: Terminal) {
  if (!client.meta) return;
  const writer = [...terminal.clients].find((c) => c.role === "writer");
  send(
    client,
    JSON.stringify({
      type: "status",
      role: client.role,
      clients: terminal.clients.size,
      writer_attached: Boolean(writer),
      cols: terminal.status?.cols ?? null,
      rows: terminal.status?.rows ?? null,
      running: terminal.status?.running ?? null,
      exit: terminal.status?.exit ?? null,
    }),
  );
}

function broadcastStatus(terminal: Terminal) {
  for (const client of terminal.clients) sendStatus(client, terminal);
}

function makeWriter(terminal: Terminal, client: Client) {
  for (const other of terminal.clients) {
    if (other !== client && other.role === "writer") {
      other.role = "viewer";
      if (!other.meta) {
        send(
          other,
          Buffer.from(
            "\r\n\x1b[2m[hangar] another client took the keyboard; this view is read-only]\x1b[0m\r\n",
          ),
        );
      }
    }
  }
  client.role = "writer";
  if (client.size) client.pty?.resize(client.size.cols, client.size.rows);
  broadcastStatus(terminal);
}

function activity(sessionId: string, terminal: Terminal) {
  const now = Date.now();
  if (now - terminal.lastTouch < TOUCH_EVERY_MS) return;
  terminal.lastTouch = now;
  void markActive(sessionId).catch(() => undefined);
}

function onMessage(sessionId: string, terminal: Terminal, client: Client, data: RawData, isBinary: boolean) {
  const bytes = Buffer.isBuffer(data)
    ? data
    : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
  if (!isBinary && bytes[0] === 0x7b /* { */) {
    let message: { type?: unknown; cols?: unknown; rows?: unknown } | null = null;
    try {
      message = JSON.parse(bytes.toString("utf8"));
    } catch {
      message = null; // Not JSON: keystrokes that start with "{".
    }
    if (message && typeof message === "object" && typeof message.type === "string") {
      if (message.type === "ping") return;
      if (message.type === "takeover") {
        if (!client.canWrite) return sendStatus(client, terminal);
        auditTerminal(client, sessionId, "terminal.takeover");
        return makeWriter(terminal, client);
      }
      if (message.type === "resize") {
        const cols = Number(message.cols);
        const rows = Number(message.rows);
        if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 2 || rows < 2) return;
        client.size = { cols: Math.min(cols, 1000), rows: Math.min(rows, 500) };
        if (client.role === "writer") client.pty?.resize(client.size.cols, client.size.rows);
        return;
      }
    }
  }
  if (client.role !== "writer") return;
  client.pty?.write(bytes);
  activity(sessionId, terminal);
}

function auditTerminal(
  client: Client,
  sessionId: string,
  action: string,
  detail: Record<string, unknown> = {},
) {
  void recordAudit({
    workspaceId: client.principal.workspaceId,
    actor: client.principal.actor,
    action,
    resourceType: "session",
    resourceId: sessionId,
    detail: { via: client.viaToken ? "terminal token" : "credentials", ...detail },
  });
}

async function attach(
  sessionId: string,
  name: string,
  socket: WebSocket,
  opts: { role: Role; meta: boolean; viaToken: boolean; canWrite: boolean; principal: Principal },
) {
  const { meta, viaToken, canWrite, principal } = opts;
  const role: Role = canWrite ? opts.role : "viewer";
  const key = `${sessionId}/${name}`;
  let terminal = terminals.get(key);
  if (!terminal) terminals.set(key, (terminal = { clients: new Set(), status: null, lastTouch: 0 }));
  const client: Client = {
    socket,
    role: "viewer",
    meta,
    viaToken,
    canWrite,
    principal,
    pty: null,
    size: null,
  };
  auditTerminal(client, sessionId, "terminal.attach", { terminal: name, role });
  // Revoking the credential it came with (a key, a login, a membership) closes it, here or by NOTIFY.
  const unwatch = watchCredentials(
    principal.credentials,
    (reason) => socket.close(4403, reason),
    principal.expiresAt,
  );
  const current = terminal;
  current.clients.add(client);
  const alive = { value: true };
  const ping = setInterval(() => {
    if (!alive.value) return socket.terminate();
    alive.value = false;
    socket.ping();
  }, PING_EVERY_MS);
  socket.on("pong", () => (alive.value = true));
  // Messages may arrive before the PTY is attached (a resize right after open): keep their order.
  const early: [RawData, boolean][] = [];
  socket.on("message", (data, isBinary) => {
    if (client.pty) onMessage(sessionId, current, client, data, isBinary);
    else early.push([data, isBinary]);
  });
  socket.on("close", () => {
    unwatch();
    clearInterval(ping);
    current.clients.delete(client);
    client.pty?.close();
    if (current.clients.size === 0) terminals.delete(key);
    else broadcastStatus(current);
  });
  try {
    client.pty = await sessionManager().driver.attachPty(sessionId, name, {
      snapshot: (screen) => send(client, Buffer.from(screen)),
      output: (bytes) => {
        send(client, bytes);
        // Output someone is watching is use of the session too (throttled like input).
        activity(sessionId, current);
      },
      status: (status) => {
        current.status = status;
        sendStatus(client, current);
      },
      close: () => {
        send(client, Buffer.from("\r\n\x1b[2m[hangar] the session's terminal has ended]\x1b[0m\r\n"));
        socket.close(1000, "terminal ended");
      },
    });
  } catch (err) {
    send(client, Buffer.from(`\r\n\x1b[31m[hangar] ${(err as Error).message}\x1b[0m\r\n`));
    socket.close(1011, "terminal unavailable");
    return;
  }
  if (role === "writer") makeWriter(current, client);
  else broadcastStatus(current);
  for (const [data, isBinary] of early.splice(0)) onMessage(sessionId, current, client, data, isBinary);
  activity(sessionId, current);
}

/** Handles an HTTP upgrade for /sessions/{id}/tty; returns false for other paths. */
export function handleTerminalUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const match = TTY_PATH.exec(req.url ?? "");
  if (!match) return false;
  let sessionId: string;
  try {
    sessionId = decodeURIComponent(match[1]!);
  } catch {
    refuseUpgrade(socket, 400, "bad_request", "The request path has malformed percent-encoding");
    return true;
  }
  const query = new URLSearchParams(match[2] ?? "");
  void (async () => {
    try {
      const { row, viaToken, principal, canWrite } = await authorise(req, sessionId, query);
      const shell = query.get("terminal") === "shell";
      if (shell && !canWrite)
        throw new ApiError("forbidden", "A shell in the sandbox needs the operator role");
      if (!shell && !row.supportsTui) {
        throw new ApiError(
          "conflict",
          `${row.config.harnessId} has no TUI: send messages instead, or open ?terminal=shell for a shell`,
        );
      }
      if (row.status === "creating") throw new ApiError("conflict", `session ${sessionId} is still starting`);
      if (row.status !== "ready")
        throw new ApiError("gone", `session ${sessionId} has ended (${row.status})`);
      if (shell) {
        // A shell in the sandbox, with the harness's environment; started on first use, then kept.
        await sessionManager().driver.startPty(sessionId, {
          name: SHELL_TERMINAL,
          argv: withSessionEnv(["bash", "-l"]),
          title: "bash",
        });
      }
      const role: Role = query.get("mode") === "view" ? "viewer" : "writer";
      const meta = query.get("meta") === "1";
      const name = shell ? SHELL_TERMINAL : TUI_TERMINAL;
      wss.handleUpgrade(
        req,
        socket,
        head,
        (ws) => void attach(sessionId, name, ws, { role, meta, viaToken, canWrite, principal }),
      );
    } catch (err) {
      const api = asApiError(err);
      if (!api) log.error("terminal upgrade failed", { sessionId, err });
      // The URL may hold a token: it is never logged.
      log.info("terminal refused", { sessionId, status: api?.status ?? 500 });
      refuseUpgrade(
        socket,
        api?.status ?? 500,
        api?.code ?? "internal_error",
        api?.message ?? "Something went wrong",
      );
    }
  })();
  return true;
}
