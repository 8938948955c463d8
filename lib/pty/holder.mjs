// The PTY holder: one small detached process per terminal of a session. It owns the PTY master, so
// the program in it (a TUI harness inside the sandbox) keeps running while no client is attached and
// while Hangar itself restarts. A headless xterm mirrors the screen, so a client that attaches first
// gets the current screen and scrollback, then live output. Clients speak frames.mjs over a Unix
// socket that only the host can reach (the session's run/ folder is never visible in the sandbox).
//
// Usage: node holder.mjs < config.json   (the config arrives on stdin so nothing lands on disk)
//   { socketPath, pidPath, argv, env, cwd, cols, rows, scrollback, watchPid, title }
// It exits when the sandbox it serves is gone (watchPid), on SIGTERM, or when the socket is removed.

import fs from "node:fs";
import net from "node:net";

import pty from "@lydell/node-pty";
import serializePkg from "@xterm/addon-serialize";
import headless from "@xterm/headless";

import { encodeFrame, FrameDecoder, INPUT, OUTPUT, RESIZE, SNAPSHOT, START, STATUS } from "./frames.mjs";

const { Terminal } = headless;
const { SerializeAddon } = serializePkg;

function note(message) {
  process.stderr.write(`${new Date().toISOString()} pty-holder: ${message}\n`);
}

async function readConfig() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function clampSize(value, fallback, max) {
  return Number.isInteger(value) && value >= 2 && value <= max ? value : fallback;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

const config = await readConfig();
let cols = clampSize(config.cols, 120, 1000);
let rows = clampSize(config.rows, 32, 500);
const term = new Terminal({ cols, rows, scrollback: config.scrollback ?? 10_000, allowProposedApi: true });
const serializer = new SerializeAddon();
term.loadAddon(serializer);

/** @type {Set<{socket: net.Socket, queue: Buffer[] | null}>} */
const clients = new Set();
let child = null;
let starts = 0;
let lastExit = null;
let closing = false;

function status() {
  return {
    running: child !== null,
    pid: child?.pid ?? null,
    cols,
    rows,
    starts,
    exit: lastExit,
  };
}

function send(client, frame) {
  if (client.queue) client.queue.push(frame);
  else if (!client.socket.destroyed) client.socket.write(frame);
}

function broadcast(type, payload) {
  const frame = encodeFrame(type, payload);
  for (const client of clients) send(client, frame);
}

/**
 * Output goes to the mirror first, then to clients, so a snapshot never misses or repeats a byte.
 * Chunks that arrive together (a burst of output) are sent as one frame: far fewer frames and
 * WebSocket messages under load, and no delay for a lone keystroke's echo.
 */
let pending = [];
let pendingBytes = 0;
function flush() {
  if (pendingBytes === 0) return;
  const bytes = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
  pending = [];
  pendingBytes = 0;
  term.write(bytes);
  broadcast(OUTPUT, bytes);
}
function output(bytes) {
  if (pendingBytes === 0) setImmediate(flush);
  pending.push(bytes);
  pendingBytes += bytes.length;
  if (pendingBytes >= 256 * 1024) flush();
}

function start() {
  if (child || closing) return;
  starts += 1;
  const [file, ...args] = config.argv;
  child = pty.spawn(file, args, {
    name: "xterm-256color",
    cols,
    rows,
    cwd: config.cwd,
    env: config.env,
    encoding: null,
  });
  const current = child;
  current.onData((data) => output(Buffer.from(data)));
  current.onExit(({ exitCode, signal }) => {
    flush();
    if (child === current) child = null;
    lastExit = { code: exitCode, signal: signal || null, at: new Date().toISOString() };
    note(`${config.title} exited (code ${exitCode}, signal ${signal})`);
    if (!closing) {
      output(
        Buffer.from(
          `\r\n\x1b[0m\x1b[2m[${config.title} exited with code ${exitCode}. Press Enter to start it again.]\x1b[0m\r\n`,
        ),
      );
    }
    broadcast(STATUS, JSON.stringify(status()));
  });
  broadcast(STATUS, JSON.stringify(status()));
}

function attach(socket) {
  // Frames produced while the mirror catches up are queued, then sent after the snapshot.
  flush();
  const client = { socket, queue: [] };
  clients.add(client);
  term.write(new Uint8Array(0), () => {
    if (socket.destroyed) return;
    socket.write(encodeFrame(SNAPSHOT, serializer.serialize()));
    socket.write(encodeFrame(STATUS, JSON.stringify(status())));
    for (const frame of client.queue ?? []) socket.write(frame);
    client.queue = null;
  });
  const decoder = new FrameDecoder();
  socket.on("data", (chunk) => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      note(`dropping a client: ${err.message}`);
      socket.destroy();
      return;
    }
    for (const { type, payload } of frames) handle(type, payload);
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => clients.delete(client));
}

function handle(type, payload) {
  if (type === INPUT) {
    if (child) child.write(payload);
    else if (payload.includes(0x0d)) start();
  } else if (type === RESIZE) {
    let size;
    try {
      size = JSON.parse(payload.toString("utf8"));
    } catch {
      return;
    }
    const nextCols = clampSize(size.cols, cols, 1000);
    const nextRows = clampSize(size.rows, rows, 500);
    if (nextCols === cols && nextRows === rows) return;
    cols = nextCols;
    rows = nextRows;
    term.resize(cols, rows);
    child?.resize(cols, rows);
    broadcast(STATUS, JSON.stringify(status()));
  } else if (type === START) {
    start();
  }
}

// Claude Code ignores SIGHUP for a while: escalate, and let the sandbox's own teardown do the rest.
function shutdown(reason) {
  if (closing) return;
  closing = true;
  note(`shutting down: ${reason}`);
  const current = child;
  for (const client of clients) client.socket.destroy();
  server.close();
  fs.rmSync(config.socketPath, { force: true });
  fs.rmSync(config.pidPath, { force: true });
  if (!current) process.exit(0);
  current.kill("SIGHUP");
  const soft = setTimeout(() => alive(current.pid) && current.kill("SIGTERM"), 500);
  const kill = setTimeout(() => {
    if (alive(current.pid)) current.kill("SIGKILL");
    process.exit(0);
  }, 2000);
  current.onExit(() => {
    clearTimeout(soft);
    clearTimeout(kill);
    process.exit(0);
  });
}

fs.rmSync(config.socketPath, { force: true });
const server = net.createServer(attach);
await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(config.socketPath, resolve);
});
fs.chmodSync(config.socketPath, 0o600);
start();
// Written atomically: whoever sees the pid file sees the whole pid.
fs.writeFileSync(`${config.pidPath}.tmp`, String(process.pid), { mode: 0o600 });
fs.renameSync(`${config.pidPath}.tmp`, config.pidPath);
note(`holding ${config.title} (pid ${child?.pid}) on ${config.socketPath}`);

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGHUP", () => undefined);
setInterval(() => {
  if (config.watchPid && !alive(config.watchPid)) shutdown("the sandbox is gone");
  else if (!fs.existsSync(config.socketPath)) shutdown("the socket was removed");
}, 1000).unref();
