// @ts-check
// The commands: their usage and help texts, and what each one does.

import { API, getSession, listAll, request, resolveAgent } from "./api.mjs";
import { attachSession, messageHint } from "./attach.mjs";
import { waitForBoot } from "./boot.mjs";
import { loadConfig, normaliseUrl, readConfigFile, writeConfig } from "./config.mjs";
import { ApiError, CliError } from "./errors.mjs";
import { err, localTime, out, secrets, table, truncate } from "./output.mjs";
import { ask, askHidden, readStdin } from "./prompt.mjs";

/** @typedef {import("./api.mjs").Agent} Agent */
/** @typedef {import("./api.mjs").Session} Session */

const STATUSES = ["creating", "ready", "dead", "failed"];

/**
 * The option values of every command, each name with one type. parseArgs runs strict with the
 * command's own `options`, so a command only ever sees its own.
 * @typedef {object} OptionValues
 * @property {string} [url]
 * @property {string} [key]
 * @property {string} [email]
 * @property {boolean} [json]
 * @property {string} [agent]
 * @property {string} [status]
 * @property {string} [limit]
 * @property {string} [timeout]
 * @property {boolean} [view]
 * @property {boolean} [help]
 */

/** @typedef {{ values: OptionValues, positionals: string[] }} Parsed */

/**
 * @typedef {object} Command
 * @property {string} usage
 * @property {string} summary
 * @property {string} [help]
 * @property {Record<string, { type: "string" | "boolean" }>} options for parseArgs
 * @property {number} [positionals] how many arguments it takes; none when absent
 * @property {(parsed: Parsed) => Promise<number>} run resolves with the exit code
 */

/** @type {Record<string, Command>} */
export const COMMANDS = {
  login: {
    usage: "hangar login [--url URL] [--key KEY | --email EMAIL]",
    summary: "store the server URL and a key (API key or master key), or sign in as a user",
    help: `Asks for what is missing (the key or password without echo), checks it against the server and
stores it in ${"$HANGAR_CONFIG"} or ~/.config/hangar/config.json (mode 600): {url, key} for a key,
{url, cookie} for a user's login (--email; it lasts as long as a browser login).
Without a terminal, the key or password is read from stdin: echo "$KEY" | hangar login --url URL`,
    options: { url: { type: "string" }, key: { type: "string" }, email: { type: "string" } },
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

/** The overview: every command with its summary. */
export function usage() {
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

/** @param {Command} c */
export function commandHelp(c) {
  return [
    `Usage: ${c.usage}`,
    "",
    c.summary.charAt(0).toUpperCase() + c.summary.slice(1) + ".",
    ...(c.help ? ["", c.help] : []),
  ].join("\n");
}

/** @param {Parsed} parsed */
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
  if (values.email) return loginAsUser(url, values.email, interactive);
  if (!key) key = interactive ? await askHidden("API key or master key") : await readStdin();
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
    throw new CliError(`Login failed: ${/** @type {Error} */ (e).message}`);
  }
  const file = writeConfig(config);
  out(`Logged in to ${url}${await whoIs(config)}. Saved to ${file} (mode 600).`);
  return 0;
}

/**
 * `hangar login --email`: the user's password for a login cookie, stored like a key.
 * @param {string} url
 * @param {string} email
 * @param {boolean} interactive
 */
async function loginAsUser(url, email, interactive) {
  const password = interactive ? await askHidden(`Password for ${email}`) : await readStdin();
  if (!password) throw new CliError("No password given", 2);
  secrets.add(password);
  let res;
  try {
    res = await fetch(`${url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ email, password }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (e) {
    throw new CliError(`Login failed: cannot reach ${url} (${/** @type {Error} */ (e).message})`);
  }
  if (res.status === 401) throw new CliError(`Login failed: ${url} refused this email and password (401).`);
  if (!res.ok) {
    const text = await res.text();
    throw new CliError(`Login failed: ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  }
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  if (!cookie || !cookie.includes("=")) throw new CliError(`Login failed: ${url} set no login cookie`);
  secrets.add(cookie.slice(cookie.indexOf("=") + 1));
  const config = { url, cookie };
  const file = writeConfig(config);
  out(`Logged in to ${url}${await whoIs(config)}. Saved to ${file} (mode 600).`);
  return 0;
}

/**
 * " as <who> (<role> in <workspace>)", or nothing when the server does not say.
 * @param {import("./config.mjs").Config} config
 */
async function whoIs(config) {
  try {
    /** @type {import("../../lib/schemas/auth").AuthSession} */
    const who = await request(config, "GET", "/api/v1/auth/session");
    const name = who.user?.email ?? (who.key ? `key "${who.key.name}"` : "the master key");
    return ` as ${name} (${who.role} in ${who.workspace.name})`;
  } catch {
    return "";
  }
}

/** @param {Parsed} parsed */
async function cmdAgents({ values }) {
  const config = loadConfig();
  /** @type {Agent[]} */
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

/** @param {Parsed} parsed */
async function cmdSessions({ values }) {
  const config = loadConfig();
  if (values.status && !STATUSES.includes(values.status)) {
    throw new CliError(`--status must be one of ${STATUSES.join(", ")}`, 2);
  }
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError("--limit must be a positive integer", 2);
  const agentId = values.agent ? (await resolveAgent(config, values.agent)).id : undefined;
  /** @type {Session[]} */
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

/** @param {Parsed} parsed */
async function cmdOpen({ values, positionals }) {
  const config = loadConfig();
  const timeout = values.timeout === undefined ? 600 : Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new CliError("--timeout must be a number of seconds", 2);
  const agent = await resolveAgent(config, /** @type {string} */ (positionals[0]));
  /** @type {Session} */
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

/** @param {Parsed} parsed */
async function cmdAttach({ values, positionals }) {
  const config = loadConfig();
  const session = await getSession(config, /** @type {string} */ (positionals[0]));
  return attachSession(config, session, { view: Boolean(values.view) });
}

/** @param {Parsed} parsed */
async function cmdStop({ positionals }) {
  const config = loadConfig();
  const before = await getSession(config, /** @type {string} */ (positionals[0]));
  /** @type {Session} */
  const after = await request(config, "DELETE", `/sessions/${encodeURIComponent(before.id)}`);
  if (before.status === "dead" || before.status === "failed") {
    out(`Session ${after.id} had already ended: ${after.status}`);
  } else {
    out(`Session ${after.id} stopped: ${after.status}`);
  }
  return 0;
}
