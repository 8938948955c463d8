// @ts-check
// Attaching the local terminal to a session's TUI over the terminal WebSocket (lib/pty/terminals.ts):
// binary frames of raw bytes both ways, and JSON `{"type":"resize",cols,rows}` text frames.

import { WebSocket } from "ws";

import { API, getSession } from "./api.mjs";
import { waitForBoot } from "./boot.mjs";
import { CliError } from "./errors.mjs";
import { err, secrets } from "./output.mjs";
import { ModeTracker, terminalGuard } from "./terminal.mjs";

/** @typedef {import("./api.mjs").Config} Config */
/** @typedef {import("./api.mjs").Session} Session */
/** @typedef {import("node:http").IncomingMessage} IncomingMessage */

const PING_MS = 30_000;
const DETACH = 0x1d; // Ctrl-]

/**
 * The WebSocket URL of a session's terminal, from the tty_url the API gave (absolute or a path).
 * @param {Config} config
 * @param {string} ttyUrl
 * @param {boolean} view
 */
function ttySocketUrl(config, ttyUrl, view) {
  let url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ttyUrl)) url = new URL(ttyUrl);
  else url = new URL(config.url + (ttyUrl.startsWith("/") ? "" : "/") + ttyUrl);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  let text = url.toString();
  if (view) text += (url.search ? "&" : "?") + "mode=view";
  return text;
}

/** @param {Session} session */
function endedMessage(session) {
  const reason = session.failure_reason ? `: ${session.failure_reason}` : "";
  return `Session ${session.id} has ended (${session.status}${reason}).`;
}

/**
 * How to talk to a session whose harness has no terminal.
 * @param {Config} config
 * @param {Session} session
 */
export function messageHint(config, session) {
  return [
    `Session ${session.id} runs ${session.harness_id}, which has no terminal: talk to it with messages.`,
    `  curl -sS -X POST ${config.url}${API}/sessions/${session.id}/message \\`,
    `    -H "Authorization: Bearer $HANGAR_KEY" -H "content-type: application/json" \\`,
    `    -d '{"text": "Hello"}'`,
    `  Stop it: hangar stop ${session.id}`,
  ].join("\n");
}

/**
 * The keyboard handler: Ctrl-] then q detaches; Ctrl-] then anything else sends both bytes on. In
 * view mode there is nothing to type into, so Ctrl-C detaches too.
 * @param {{ view: boolean, send: (bytes: Buffer) => void, detach: () => void }} handlers
 * @returns {(chunk: Buffer | string) => void}
 */
function keyboard({ view, send, detach }) {
  let pendingDetach = false;
  return (chunk) => {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    /** @type {number[]} */
    const forward = [];
    for (const byte of bytes) {
      if (pendingDetach) {
        pendingDetach = false;
        if (byte === 0x71 /* q */ || byte === 0x51 /* Q */) {
          send(Buffer.from(forward));
          return detach();
        }
        forward.push(DETACH, byte);
      } else if (byte === DETACH) {
        pendingDetach = true;
      } else if (view && byte === 0x03 /* Ctrl-C */) {
        return detach();
      } else {
        forward.push(byte);
      }
    }
    send(Buffer.from(forward));
  };
}

/**
 * Why the server refused the WebSocket upgrade, from its error envelope when it sent one.
 * @param {IncomingMessage} res
 * @param {string} id
 * @returns {Promise<string>}
 */
function refusalMessage(res, id) {
  return new Promise((resolve) => {
    /** @type {Buffer[]} */
    const chunks = [];
    res.on("data", (c) => chunks.push(c));
    res.on("end", () => {
      let message = `the terminal refused the connection (HTTP ${res.statusCode})`;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (body?.error?.message) message = body.error.message;
      } catch {
        // not an envelope
      }
      if (res.statusCode === 410) resolve(`Session ${id} has ended: ${message}`);
      else resolve(`Cannot attach to ${id}: ${message}`);
    });
    res.on("error", () => resolve(`Cannot attach to ${id} (HTTP ${res.statusCode})`));
  });
}

/**
 * After the server closed the terminal: the exit code and what to say, from the session's status
 * (read again for up to 2 s while the terminal ended but the session still looks ready).
 * @param {Config} config
 * @param {string} id
 * @param {number} code the WebSocket close code
 * @param {string} reason the WebSocket close reason
 * @returns {Promise<[number, string]>}
 */
async function closedMessage(config, id, code, reason) {
  /** @type {Session | null} */
  let latest = null;
  for (let i = 0; i < 8; i++) {
    try {
      latest = await getSession(config, id);
    } catch {
      latest = null;
    }
    if (!latest || latest.status !== "ready" || reason !== "terminal ended") break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (latest && latest.status !== "ready" && latest.status !== "creating") {
    return [0, `\r\n${endedMessage(latest)}`];
  }
  const state = latest ? `session ${id} is still ${latest.status}` : `the status of ${id} is unknown`;
  if (code === 1000) {
    return [0, `\r\nThe terminal has ended; ${state}. Reattach with: hangar attach ${id}`];
  }
  return [
    1,
    `\r\nThe connection to the terminal closed (code ${code}${reason ? `, ${reason}` : ""}); ` +
      `${state}. Reattach with: hangar attach ${id}`,
  ];
}

/**
 * Closes the socket (or gives up on connecting); resolves once it closed, or after 500 ms.
 * @param {WebSocket} socket
 * @returns {Promise<void>}
 */
function closeSocket(socket) {
  return new Promise((resolve) => {
    if (socket.readyState !== WebSocket.OPEN && socket.readyState !== WebSocket.CONNECTING) return resolve();
    const timer = setTimeout(resolve, 500);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, "detached");
      else socket.terminate();
    } catch {
      resolve();
    }
  });
}

/**
 * Attaches the local terminal to a ready TUI session; resolves with the exit code.
 * @param {Config} config
 * @param {Session} session
 * @param {{ view: boolean }} options
 * @returns {Promise<number>}
 */
export async function attachSession(config, session, { view }) {
  if (session.status === "creating") {
    session = await waitForBoot(config, session, { label: session.harness_id, timeoutMs: 600_000 });
  }
  if (session.status !== "ready") throw new CliError(endedMessage(session));
  if (!session.supports_tui) throw new CliError(messageHint(config, session));
  if (!session.tty_url || !session.tty_token) {
    throw new CliError(`Session ${session.id} has no terminal address; try again in a moment`);
  }
  secrets.add(session.tty_token);
  const id = session.id;
  const stdin = process.stdin;
  const stdout = process.stdout;
  const modes = new ModeTracker();
  const socket = new WebSocket(ttySocketUrl(config, session.tty_url, view), {
    headers: { authorization: `Bearer ${session.tty_token}` },
    perMessageDeflate: false,
    handshakeTimeout: 20_000,
  });

  return new Promise((resolve) => {
    let finished = false;
    let opened = false;
    let raw = false;
    /** @type {NodeJS.Timeout | undefined} */
    let ping;
    let alive = true;

    let restored = false;
    const restoreTerminal = () => {
      if (restored) return;
      restored = true;
      if (raw && stdin.isTTY) stdin.setRawMode(false);
      raw = false;
      if (stdout.isTTY && opened) stdout.write(modes.reset());
    };
    terminalGuard.track(restoreTerminal);

    /**
     * @param {number} code
     * @param {string} [message]
     */
    const finish = (code, message) => {
      if (finished) return;
      finished = true;
      clearInterval(ping);
      stdin.off("data", onInput);
      stdout.off("resize", sendSize);
      process.off("SIGTERM", onSignal);
      process.off("SIGHUP", onSignal);
      process.off("SIGINT", onSignal);
      restoreTerminal();
      stdin.pause();
      if (message) err(message);
      void closeSocket(socket).then(() => resolve(code));
    };

    /** @param {NodeJS.Signals} signal */
    const onSignal = (signal) => {
      finish(
        signal === "SIGINT" ? 130 : signal === "SIGHUP" ? 129 : 143,
        `\r\n${signal}: detached from ${id}.`,
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", onSignal);
    process.on("SIGINT", onSignal);

    /** @param {Buffer} bytes */
    const send = (bytes) => {
      if (!view && bytes.length && socket.readyState === WebSocket.OPEN) socket.send(bytes, { binary: true });
    };

    const sendSize = () => {
      if (socket.readyState !== WebSocket.OPEN || !stdout.isTTY) return;
      const { columns, rows } = stdout;
      if (columns > 1 && rows > 1) socket.send(JSON.stringify({ type: "resize", cols: columns, rows }));
    };

    const detach = () =>
      finish(0, `\r\nDetached. Reattach with: hangar attach ${id}${view ? " --view" : ""}`);
    const onInput = keyboard({ view, send, detach });

    socket.on("unexpected-response", (_req, res) => {
      void refusalMessage(res, id).then((message) => finish(1, message));
    });

    socket.on("error", (e) => {
      if (!opened) finish(1, `Cannot connect to the terminal of ${id}: ${e.message}`);
    });

    socket.on("open", () => {
      opened = true;
      err(
        view
          ? `Watching session ${id} (read-only). Detach with Ctrl-] then q, or Ctrl-C.`
          : `Attached to session ${id} (${session.harness_id}). Detach with Ctrl-] then q.`,
      );
      if (stdin.isTTY) {
        stdin.setRawMode(true);
        raw = true;
      }
      stdin.on("data", onInput);
      stdin.resume();
      stdout.on("resize", sendSize);
      sendSize();
      ping = setInterval(() => {
        if (!alive) return socket.terminate();
        alive = false;
        socket.ping();
      }, PING_MS);
    });
    socket.on("pong", () => (alive = true));

    socket.on("message", (data, isBinary) => {
      if (!isBinary) return; // status frames are only sent to clients that ask (?meta=1)
      const bytes = Buffer.isBuffer(data)
        ? data
        : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
      modes.scan(bytes);
      stdout.write(bytes);
    });

    socket.on("close", (code, reasonBuffer) => {
      if (finished || !opened) return;
      // The server closed: find out why before saying so.
      void closedMessage(config, id, code, String(reasonBuffer || "")).then(([exitCode, message]) =>
        finish(exitCode, message),
      );
    });
  });
}
