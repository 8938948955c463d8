#!/usr/bin/env node
// The `hangar` command: log in to a Hangar server, list agents and sessions, start a session and
// attach your terminal to its TUI (Codex, Claude Code), detach and reattach, stop it.
//
// Plain JavaScript so it runs with `node` alone; its only dependency is `ws`. It speaks the public
// REST API (README "API") and the terminal WebSocket (lib/pty/terminals.ts): binary frames of raw
// bytes both ways, and JSON `{"type":"resize",cols,rows}` text frames.
//
// The key is read from the config file or HANGAR_KEY and sent only as a Bearer header: it is never
// printed, and every message that reaches the screen passes through redact() as a second guard.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { parseArgs } from "node:util";

import { WebSocket } from "ws";

const API = "/api/v1/managed_agents";
const POLL_MS = 250;
const PING_MS = 30_000;
const DETACH = 0x1d; // Ctrl-]
const PHASE_ORDER = [
  "creating_sandbox",
  "writing_files",
  "cloning_repo",
  "installing_deps",
  "starting_harness",
  "ready",
];
const STATUSES = ["creating", "ready", "dead", "failed"];

/** An error meant for the user: its message is printed as is, without a stack. */
class CliError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** An error answer from the API, carrying the envelope's code and message. */
class ApiError extends CliError {
  constructor(status, code, message) {
    super(message, 1);
    this.status = status;
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// Output helpers

const secrets = new Set();

function redact(text) {
  let out = String(text);
  for (const secret of secrets) if (secret) out = out.split(secret).join("***");
  return out;
}

function out(text = "") {
  process.stdout.write(redact(text) + "\n");
}

function err(text = "") {
  process.stderr.write(redact(text) + "\n");
}

function table(rows, headers) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? String(c ?? "") : String(c ?? "").padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  out(line(headers));
  for (const row of rows) out(line(row));
}

function truncate(text, max) {
  const s = String(text ?? "");
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

function localTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// ---------------------------------------------------------------------------------------------
// Configuration

function configPath() {
  if (process.env.HANGAR_CONFIG) return path.resolve(process.env.HANGAR_CONFIG);
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(base, "hangar", "config.json");
}

function readConfigFile() {
  const file = configPath();
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if (e.code === "ENOENT") return {};
    throw new CliError(`Cannot read ${file}: ${e.message}`);
  }
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    throw new CliError(`${file} is not valid JSON: fix it or run \`hangar login\` again`);
  }
}

/** The server and key to use: HANGAR_URL / HANGAR_KEY override the config file. */
function loadConfig() {
  const file = readConfigFile();
  const url = process.env.HANGAR_URL || file.url;
  const key = process.env.HANGAR_KEY || file.key;
  if (key) secrets.add(key);
  if (!url || !key) {
    throw new CliError(
      "Not logged in: run `hangar login` (or set HANGAR_URL and HANGAR_KEY).\n" +
        `Config file: ${configPath()}`,
    );
  }
  return { url: normaliseUrl(url), key };
}

function normaliseUrl(value) {
  let url;
  try {
    url = new URL(String(value).trim());
  } catch {
    throw new CliError(`${value} is not a URL; expected something like http://localhost:3000`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`${value} must start with http:// or https://`);
  }
  if (url.username || url.password) throw new CliError("The URL must not contain credentials");
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}

function writeConfig(config) {
  const file = configPath();
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
  return file;
}

// ---------------------------------------------------------------------------------------------
// The API

async function request(config, method, route, { body, query } = {}) {
  const url = new URL(config.url + API + route);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
  }
  const headers = { authorization: `Bearer ${config.key}`, accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (e) {
    const cause = e?.cause?.code || e?.cause?.message || e?.message || String(e);
    throw new CliError(`Cannot reach Hangar at ${config.url} (${cause})`);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const envelope = data && typeof data === "object" ? data.error : null;
    const message =
      envelope && typeof envelope.message === "string"
        ? envelope.message
        : `${res.status} ${res.statusText || "error"}`;
    const issues = Array.isArray(envelope?.issues)
      ? envelope.issues.map((i) => `\n  ${(i.path ?? []).join(".") || "(body)"}: ${i.message}`).join("")
      : "";
    if (res.status === 401) {
      throw new ApiError(
        401,
        "unauthorized",
        `Hangar at ${config.url} refused the key (401: ${message}). Run \`hangar login\` with a valid key.`,
      );
    }
    throw new ApiError(res.status, envelope?.code ?? "error", message + issues);
  }
  if (data === null && text) throw new CliError(`${config.url} answered with something that is not JSON`);
  return data;
}

/** Every item of a paginated list, up to `max`. */
async function listAll(config, route, query = {}, max = Infinity) {
  const items = [];
  for (;;) {
    const limit = Math.min(200, max - items.length);
    if (limit <= 0) break;
    const page = await request(config, "GET", route, { query: { ...query, limit, offset: items.length } });
    const data = Array.isArray(page?.data) ? page.data : [];
    items.push(...data);
    if (data.length === 0 || items.length >= (page.total ?? 0)) break;
  }
  return items;
}

/** An agent by id or exact name; searches every page of `GET /agents?search=`. */
async function resolveAgent(config, ref) {
  const found = await listAll(config, "/agents", { search: ref });
  const byId = found.find((a) => a.id === ref);
  if (byId) return byId;
  let named = found.filter((a) => a.name === ref);
  if (named.length === 0) named = found.filter((a) => (a.name ?? "").toLowerCase() === ref.toLowerCase());
  if (named.length === 1) return named[0];
  if (named.length > 1) {
    err(`"${ref}" names ${named.length} agents; use an id:`);
    const rows = named.map((a) => [a.name ?? "", a.id, a.harness_id, a.model, localTime(a.created_at)]);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) err("  " + r.map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c)).join("  "));
    throw new CliError("", 2);
  }
  const similar = found.slice(0, 5).map((a) => `  ${a.name ?? "(unnamed)"}  ${a.id}`);
  throw new CliError(
    `No agent named or with id "${ref}".` +
      (similar.length ? `\nSimilar:\n${similar.join("\n")}` : "\nList them with: hangar agents"),
  );
}

// ---------------------------------------------------------------------------------------------
// Prompts (login)

function ask(question, fallback) {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve, reject) => {
    rl.on("SIGINT", () => {
      rl.close();
      reject(new CliError("Cancelled", 130));
    });
    rl.question(fallback ? `${question} [${fallback}]: ` : `${question}: `, (answer) => {
      rl.close();
      resolve(answer.trim() || fallback || "");
    });
  });
}

/** Reads a line from the terminal without echoing it. */
function askHidden(question) {
  const stdin = process.stdin;
  // Echo goes off before the prompt shows: a key typed or pasted the moment the prompt appears would
  // otherwise be echoed by the terminal before raw mode takes over.
  terminalGuard.track(() => stdin.isTTY && stdin.setRawMode(false));
  stdin.setRawMode(true);
  process.stderr.write(`${question}: `);
  return new Promise((resolve, reject) => {
    let value = "";
    const restore = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    const onData = (chunk) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          restore();
          return resolve(value.trim());
        }
        if (ch === "\x03" || ch === "\x04") {
          restore();
          return reject(new CliError("Cancelled", 130));
        }
        if (ch === "\x7f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.resume();
    stdin.on("data", onData);
  });
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8").trim();
}

// ---------------------------------------------------------------------------------------------
// Terminal state: whatever happens, the local terminal gets its mode back.

const terminalGuard = {
  restorers: [],
  track(fn) {
    this.restorers.push(fn);
  },
  restore() {
    for (const fn of this.restorers.splice(0).reverse()) {
      try {
        fn();
      } catch {
        // best effort: the terminal may already be gone
      }
    }
  },
};

process.on("exit", () => terminalGuard.restore());

/**
 * Watches the remote program's output for the terminal modes it switches on (alternate screen,
 * mouse reporting, bracketed paste, hidden cursor, the kitty keyboard protocol...) so they can be
 * switched off again locally when we leave, without touching modes it never used.
 */
class ModeTracker {
  // DECCKM, cursor visibility, alternate screens, mouse reporting, focus events, bracketed paste,
  // synchronized output.
  static TRACKED = new Set("1 25 47 1047 1049 1000 1002 1003 1004 1005 1006 1015 2004 2026".split(" "));

  constructor() {
    this.modes = new Map();
    this.kitty = 0;
    this.carry = "";
  }

  scan(buffer) {
    let s = this.carry + buffer.toString("latin1");
    this.carry = "";
    const lastEsc = s.lastIndexOf("\x1b");
    if (lastEsc >= 0 && s.length - lastEsc < 32) {
      const tail = s.slice(lastEsc);
      if (!/^\x1b(?:\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|[^[])/.test(tail)) {
        this.carry = tail;
        s = s.slice(0, lastEsc);
      }
    }
    for (const m of s.matchAll(/\x1b\[\?([\d;]*)([hl])/g)) {
      for (const n of m[1].split(";")) if (ModeTracker.TRACKED.has(n)) this.modes.set(n, m[2] === "h");
    }
    for (const m of s.matchAll(/\x1b\[([<>])(\d*)u/g)) {
      if (m[1] === ">") this.kitty += 1;
      else this.kitty = Math.max(0, this.kitty - (Number(m[2]) || 1));
    }
  }

  /** Escape sequences that undo what the remote program set. */
  reset() {
    let seq = "\x1b[0m";
    if (this.kitty > 0) seq += `\x1b[<${this.kitty}u`;
    for (const [mode, on] of this.modes) {
      if (mode === "25") {
        if (!on) seq += "\x1b[?25h";
      } else if (on) {
        seq += `\x1b[?${mode}l`;
      }
    }
    const alt = ["47", "1047", "1049"].some((m) => this.modes.get(m));
    seq += "\x1b>\x1b[0 q";
    // In the main screen the remote UI may sit anywhere: continue below it.
    if (!alt) seq += "\x1b[999;1H\r\n";
    this.modes.clear();
    this.kitty = 0;
    return seq;
  }
}

// ---------------------------------------------------------------------------------------------
// Boot progress

function phaseSummary(session) {
  const timings = session.timings ?? {};
  return PHASE_ORDER.filter((p) => typeof timings[p] === "number").map((p) => `${p} ${timings[p]} ms`);
}

/** Polls the session every 250 ms until it leaves `creating`, showing its phases as it goes. */
async function waitForBoot(config, session, { label, timeoutMs }) {
  const tty = Boolean(process.stderr.isTTY);
  const started = Date.now();
  const spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let frame = 0;
  let lastPhase = null;
  let current = session;
  let failures = 0;
  const draw = () => {
    const elapsed = Date.now() - started;
    const done = phaseSummary(current);
    const phase = current.phase && !(current.phase in (current.timings ?? {})) ? current.phase : null;
    const steps = [...done, ...(phase && phase !== "ready" ? [`${phase} …`] : [])].join(" › ");
    let line = `${spinner[frame++ % spinner.length]} Starting ${label} · ${steps || "queued"} · ${elapsed} ms`;
    const width = (process.stderr.columns || 100) - 1;
    if (line.length > width) line = line.slice(0, width - 1) + "…";
    process.stderr.write(`\r\x1b[2K${line}`);
  };
  const clear = () => tty && process.stderr.write("\r\x1b[2K");
  const onSigint = () => {
    clear();
    err(`Interrupted. Session ${session.id} keeps starting.`);
    err(`  Attach: hangar attach ${session.id}`);
    err(`  Stop:   hangar stop ${session.id}`);
    process.exit(130);
  };
  process.on("SIGINT", onSigint);
  try {
    if (!tty) err(`Starting ${label}: session ${session.id}`);
    for (;;) {
      if (tty) draw();
      else if (current.phase && current.phase !== lastPhase) {
        err(`  ${String(Date.now() - started).padStart(6)} ms  ${current.phase}`);
        lastPhase = current.phase;
      }
      if (current.status !== "creating") break;
      if (Date.now() - started > timeoutMs) {
        clear();
        throw new CliError(
          `Session ${session.id} is still starting after ${Math.round(timeoutMs / 1000)} s ` +
            `(phase ${current.phase ?? "unknown"}). Follow it with: hangar attach ${session.id}`,
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
      try {
        current = await request(config, "GET", `/sessions/${encodeURIComponent(session.id)}`);
        failures = 0;
      } catch (e) {
        if (e instanceof ApiError || ++failures >= 5) {
          clear();
          throw e;
        }
      }
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
  const elapsed = Date.now() - started;
  const steps = phaseSummary(current);
  clear();
  if (current.status === "ready") {
    err(`✓ Ready in ${elapsed} ms${steps.length ? ` (${steps.join(", ")})` : ""}`);
    return current;
  }
  const where = current.phase ? ` during ${current.phase}` : "";
  throw new CliError(
    `✗ Session ${session.id} ${current.status}${where} after ${elapsed} ms: ` +
      (current.failure_reason || current.phase_detail || "no reason given"),
  );
}

// ---------------------------------------------------------------------------------------------
// Attaching

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

function endedMessage(session) {
  const reason = session.failure_reason ? `: ${session.failure_reason}` : "";
  return `Session ${session.id} has ended (${session.status}${reason}).`;
}

function messageHint(config, session) {
  return [
    `Session ${session.id} runs ${session.harness_id}, which has no terminal: talk to it with messages.`,
    `  curl -sS -X POST ${config.url}${API}/sessions/${session.id}/message \\`,
    `    -H "Authorization: Bearer $HANGAR_KEY" -H "content-type: application/json" \\`,
    `    -d '{"text": "Hello"}'`,
    `  Stop it: hangar stop ${session.id}`,
  ].join("\n");
}

async function getSession(config, id) {
  return request(config, "GET", `/sessions/${encodeURIComponent(id)}`);
}

/** Attaches the local terminal to a ready TUI session; resolves with the exit code. */
async function attachSession(config, session, { view }) {
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
    let ping = null;
    let pendingDetach = false;
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
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        const timer = setTimeout(() => resolve(code), 500);
        socket.once("close", () => {
          clearTimeout(timer);
          resolve(code);
        });
        try {
          if (socket.readyState === WebSocket.OPEN) socket.close(1000, "detached");
          else socket.terminate();
        } catch {
          resolve(code);
        }
      } else {
        resolve(code);
      }
    };

    const onSignal = (signal) => {
      finish(
        signal === "SIGINT" ? 130 : signal === "SIGHUP" ? 129 : 143,
        `\r\n${signal}: detached from ${id}.`,
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", onSignal);
    process.on("SIGINT", onSignal);

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

    // Ctrl-] then q detaches; Ctrl-] then anything else sends both bytes on.
    const onInput = (chunk) => {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
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
        } else if (view && byte === 0x03 /* Ctrl-C: nothing to type into, so it detaches */) {
          return detach();
        } else {
          forward.push(byte);
        }
      }
      send(Buffer.from(forward));
    };

    socket.on("unexpected-response", (_req, res) => {
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
        if (res.statusCode === 410) message = `Session ${id} has ended: ${message}`;
        else message = `Cannot attach to ${id}: ${message}`;
        finish(1, message);
      });
      res.on("error", () => finish(1, `Cannot attach to ${id} (HTTP ${res.statusCode})`));
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
      const bytes = Buffer.isBuffer(data) ? data : Buffer.concat([].concat(data));
      modes.scan(bytes);
      stdout.write(bytes);
    });

    socket.on("close", (code, reasonBuffer) => {
      if (finished || !opened) return;
      const reason = String(reasonBuffer || "");
      // The server closed: find out why before saying so.
      void (async () => {
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
          return finish(0, `\r\n${endedMessage(latest)}`);
        }
        const state = latest ? `session ${id} is still ${latest.status}` : `the status of ${id} is unknown`;
        if (code === 1000) {
          return finish(0, `\r\nThe terminal has ended; ${state}. Reattach with: hangar attach ${id}`);
        }
        finish(
          1,
          `\r\nThe connection to the terminal closed (code ${code}${reason ? `, ${reason}` : ""}); ` +
            `${state}. Reattach with: hangar attach ${id}`,
        );
      })();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Commands

const COMMANDS = {
  login: {
    usage: "hangar login [--url URL] [--key KEY]",
    summary: "store the server URL and master key",
    help: `Asks for what is missing (the key without echo), checks it against the server and stores
{url, key} in ${"$HANGAR_CONFIG"} or ~/.config/hangar/config.json (mode 600).
Without a terminal, the key is read from stdin: echo "$KEY" | hangar login --url URL`,
    options: { url: { type: "string" }, key: { type: "string" } },
    run: cmdLogin,
  },
  agents: {
    usage: "hangar agents [--json]",
    summary: "list agents ([tui] marks a terminal harness)",
    options: { json: { type: "boolean" } },
    run: cmdAgents,
  },
  sessions: {
    usage: "hangar sessions [--agent NAME|ID] [--status S] [--limit N] [--json]",
    summary: "list sessions, newest first",
    help: `--status is one of ${STATUSES.join(", ")}; --limit defaults to 50.`,
    options: {
      agent: { type: "string" },
      status: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean" },
    },
    run: cmdSessions,
  },
  open: {
    usage: "hangar open <agent name or id> [--timeout SECONDS]",
    summary: "start a session; attach to it when it has a terminal",
    help: `Shows the boot phases, then attaches your terminal to the TUI (Codex, Claude Code).
For message-based harnesses it prints how to message the session.
--timeout (default 600) bounds the wait for the session to be ready.`,
    options: { timeout: { type: "string" } },
    positionals: 1,
    run: cmdOpen,
  },
  attach: {
    usage: "hangar attach <session id> [--view]",
    summary: "attach your terminal to a session's TUI",
    help: `Ctrl-] then q detaches and leaves the TUI running; Ctrl-] then any other key sends both.
--view watches read-only (Ctrl-C also detaches).`,
    options: { view: { type: "boolean" } },
    positionals: 1,
    run: cmdAttach,
  },
  stop: {
    usage: "hangar stop <session id>",
    summary: "stop a session and its sandbox",
    options: {},
    positionals: 1,
    run: cmdStop,
  },
};

function usage() {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    "Usage: hangar <command> [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `hangar <command> --help` for details.",
    "Environment: HANGAR_URL and HANGAR_KEY override the config file; HANGAR_CONFIG sets its path.",
  ].join("\n");
}

function commandHelp(name) {
  const c = COMMANDS[name];
  return [
    `Usage: ${c.usage}`,
    "",
    c.summary[0].toUpperCase() + c.summary.slice(1) + ".",
    ...(c.help ? ["", c.help] : []),
  ].join("\n");
}

async function cmdLogin({ values }) {
  const saved = readConfigFile();
  let url = values.url ?? process.env.HANGAR_URL;
  let key = values.key ?? process.env.HANGAR_KEY;
  const interactive = Boolean(process.stdin.isTTY);
  if (!url) {
    if (interactive) url = await ask("Hangar URL", saved.url ?? "http://localhost:3000");
    else if (saved.url) url = saved.url;
    else throw new CliError("Give the server with --url URL (or HANGAR_URL)", 2);
  }
  url = normaliseUrl(url);
  if (!key) key = interactive ? await askHidden("Master key") : await readStdin();
  if (!key) throw new CliError("No key given", 2);
  secrets.add(key);
  const config = { url, key };
  try {
    await request(config, "GET", "/agents", { query: { limit: 1 } });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      throw new CliError(`Login failed: ${url} refused this key (401). Check the master key and try again.`);
    }
    if (e instanceof ApiError && e.status === 404) {
      throw new CliError(`Login failed: ${url} does not look like a Hangar server (404 on ${API}/agents).`);
    }
    throw new CliError(`Login failed: ${e.message}`);
  }
  const file = writeConfig(config);
  out(`Logged in to ${url}. Saved to ${file} (mode 600).`);
  return 0;
}

async function cmdAgents({ values }) {
  const config = loadConfig();
  const agents = await listAll(config, "/agents", { sort: "name", order: "asc" });
  if (values.json) {
    out(JSON.stringify(agents, null, 2));
    return 0;
  }
  if (agents.length === 0) {
    err("No agents yet. Create one in the browser app or with POST /api/v1/managed_agents/agents.");
    return 0;
  }
  table(
    agents.map((a) => [
      a.name ?? "(unnamed)",
      a.id,
      a.harness_id + (a.supports_tui ? " [tui]" : ""),
      a.model,
    ]),
    ["NAME", "ID", "HARNESS", "MODEL"],
  );
  return 0;
}

async function cmdSessions({ values }) {
  const config = loadConfig();
  if (values.status && !STATUSES.includes(values.status)) {
    throw new CliError(`--status must be one of ${STATUSES.join(", ")}`, 2);
  }
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError("--limit must be a positive integer", 2);
  const agentId = values.agent ? (await resolveAgent(config, values.agent)).id : undefined;
  const sessions = await listAll(config, "/sessions", { agent_id: agentId, status: values.status }, limit);
  if (values.json) {
    out(JSON.stringify(sessions, null, 2));
    return 0;
  }
  if (sessions.length === 0) {
    err("No sessions match.");
    return 0;
  }
  table(
    sessions.map((s) => [
      s.id,
      truncate(s.title ?? "", 32),
      s.agent_id,
      s.status === "creating" || (s.phase && s.phase !== "ready")
        ? `${s.status}/${s.phase ?? "-"}`
        : s.status,
      localTime(s.created_at),
    ]),
    ["ID", "TITLE", "AGENT", "STATUS", "CREATED"],
  );
  return 0;
}

async function cmdOpen({ values, positionals }) {
  const config = loadConfig();
  const timeout = values.timeout === undefined ? 600 : Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new CliError("--timeout must be a number of seconds", 2);
  const agent = await resolveAgent(config, positionals[0]);
  const created = await request(config, "POST", `/agents/${encodeURIComponent(agent.id)}/session`, {
    body: { title: "hangar-cli" },
  });
  const label = `${agent.name ?? agent.id} (${agent.harness_id})`;
  const ready = await waitForBoot(config, created, { label, timeoutMs: timeout * 1000 });
  if (ready.supports_tui) return attachSession(config, ready, { view: false });
  out(messageHint(config, ready));
  out(ready.id);
  return 0;
}

async function cmdAttach({ values, positionals }) {
  const config = loadConfig();
  const session = await getSession(config, positionals[0]);
  return attachSession(config, session, { view: Boolean(values.view) });
}

async function cmdStop({ positionals }) {
  const config = loadConfig();
  const before = await getSession(config, positionals[0]);
  const after = await request(config, "DELETE", `/sessions/${encodeURIComponent(before.id)}`);
  if (before.status === "dead" || before.status === "failed") {
    out(`Session ${after.id} had already ended: ${after.status}`);
  } else {
    out(`Session ${after.id} stopped: ${after.status}`);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(argv) {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    if (rest[0] && COMMANDS[rest[0]]) out(commandHelp(rest[0]));
    else out(usage());
    return 0;
  }
  if (!name) {
    err(usage());
    return 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(`hangar: unknown command "${name}"\n`);
    err(usage());
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    err(`hangar ${name}: ${e.message}\n`);
    err(commandHelp(name));
    return 2;
  }
  if (parsed.values.help) {
    out(commandHelp(name));
    return 0;
  }
  const wanted = command.positionals ?? 0;
  if (parsed.positionals.length !== wanted) {
    err(
      parsed.positionals.length < wanted
        ? `hangar ${name}: missing argument\n`
        : `hangar ${name}: unexpected argument "${parsed.positionals[wanted]}"\n`,
    );
    err(commandHelp(name));
    return 2;
  }
  return command.run(parsed);
}

function fail(e) {
  terminalGuard.restore();
  if (e instanceof CliError) {
    if (e.message) err(`hangar: ${e.message}`);
    return e.exitCode;
  }
  err(`hangar: unexpected error: ${e?.message ?? String(e)}`);
  return 1;
}

process.on("uncaughtException", (e) => process.exit(fail(e)));
process.on("unhandledRejection", (e) => process.exit(fail(e)));

main(process.argv.slice(2)).then(
  (code) => {
    terminalGuard.restore();
    process.exit(code ?? 0);
  },
  (e) => process.exit(fail(e)),
);
