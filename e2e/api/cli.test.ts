import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import pty, { type IPty } from "@lydell/node-pty";
import { Terminal } from "@xterm/headless";
import { afterEach, describe, expect, inject, it } from "vitest";

import { api, createAgent, unique } from "../support/api";
import { tempDir } from "../support/server";
import { screenReader, wsTerminal } from "../support/terminal";

/*
 * The `hangar` command (bin/hangar.mjs), run as a real child process against the suite's server:
 * plain pipes for the list commands, a real PTY rendered into a headless xterm for `open`/`attach`.
 */

const BIN = path.resolve("bin/hangar.mjs");
const SESSIONS = "/api/v1/managed_agents/sessions";
const home = tempDir("cli-home");

/** Everything the CLI printed in this file: the master key must appear nowhere in it. */
const printed: string[] = [];
const running = new Set<IPty>();

afterEach(() => {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
});

/** A clean environment: no HANGAR_URL/HANGAR_KEY from outside, a HOME of its own. */
function env(config: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { NODE_ENV: "test", PATH: process.env.PATH ?? "", HOME: home, HANGAR_CONFIG: config, ...extra };
}

/** Runs the CLI with pipes (no terminal). */
function run(
  args: string[],
  opts: { config: string; input?: string; env?: Record<string, string> },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: env(opts.config, opts.env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      printed.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

const stripAnsi = (text: string) =>
  text.replace(/\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r/g, "");

/** Runs the CLI inside a real PTY; the output is rendered as a terminal would. */
function inPty(args: string[], config: string, size = { cols: 110, rows: 32 }) {
  const term = new Terminal({ ...size, allowProposedApi: true });
  let raw = "";
  const child = pty.spawn(process.execPath, [BIN, ...args], {
    name: "xterm-256color",
    ...size,
    cwd: process.cwd(),
    env: env(config),
  });
  running.add(child);
  child.onData((data) => {
    raw += data;
    printed.push(data);
    term.write(data);
  });
  const exit = new Promise<number>((resolve) =>
    child.onExit(({ exitCode }) => {
      running.delete(child);
      resolve(exitCode);
    }),
  );
  const { screen, waitFor } = screenReader(term, 20_000);
  /** The exit code; fails (with the screen) when the CLI is still running after 10 s. */
  const exited = async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(async () => reject(new Error(`still running; screen:\n${await screen()}`)), 10_000);
    });
    try {
      return await Promise.race([exit, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    term,
    screen,
    waitFor,
    exited,
    raw: () => raw,
    type: (text: string) => child.write(text),
    kill: (signal: string) => child.kill(signal),
    resize: (cols: number, rows: number) => {
      term.resize(cols, rows);
      child.resize(cols, rows);
    },
  };
}

async function until(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A config file written by `hangar login`, for the commands that need one. */
async function loggedIn(): Promise<string> {
  const config = path.join(tempDir("cli"), "config.json");
  const res = await run(["login", "--url", inject("baseUrl")], { config, input: inject("masterKey") });
  expect(res.code, res.stderr).toBe(0);
  return config;
}

describe("the hangar command", () => {
  it("prints help, and usage with exit 2 for unknown commands and missing arguments", async () => {
    const config = path.join(tempDir("cli"), "config.json");
    const help = await run(["--help"], { config });
    expect(help.code).toBe(0);
    for (const cmd of ["login", "agents", "sessions", "open", "attach", "stop"])
      expect(help.stdout).toContain(cmd);
    const attachHelp = await run(["attach", "--help"], { config });
    expect(attachHelp.code).toBe(0);
    expect(attachHelp.stdout).toContain("Ctrl-] then q");
    const unknown = await run(["launch"], { config });
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toContain('unknown command "launch"');
    expect(unknown.stderr).toContain("Usage: hangar <command>");
    const missing = await run(["open"], { config });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing argument");
    const notLoggedIn = await run(["agents"], { config });
    expect(notLoggedIn.code).toBe(1);
    expect(notLoggedIn.stderr).toContain("Not logged in: run `hangar login`");
    expect(notLoggedIn.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("login checks the key, stores {url, key} with mode 0600 and never prints the key", async () => {
    const dir = tempDir("cli");
    const config = path.join(dir, "nested", "hangar", "config.json");
    const wrongKey = "hk_wrong_" + "9".repeat(32);
    const wrong = await run(["login", "--url", inject("baseUrl"), "--key", wrongKey], { config });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("refused this key (401)");
    expect(wrong.stdout + wrong.stderr).not.toContain(wrongKey);
    expect(fs.existsSync(config)).toBe(false);

    // Without a terminal the key comes from stdin.
    const ok = await run(["login", "--url", inject("baseUrl") + "/"], { config, input: inject("masterKey") });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`Logged in to ${inject("baseUrl")}`);
    expect(ok.stdout + ok.stderr).not.toContain(inject("masterKey"));
    expect(fs.statSync(config).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(config)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(fs.readFileSync(config, "utf8"))).toEqual({
      url: inject("baseUrl"),
      key: inject("masterKey"),
    });

    // HANGAR_KEY overrides the file.
    const overridden = await run(["agents"], { config, env: { HANGAR_KEY: wrongKey } });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toContain("refused the key (401");
    expect(overridden.stderr).not.toContain(wrongKey);

    // On a terminal it asks, and the key is not echoed.
    const interactiveConfig = path.join(dir, "interactive.json");
    const prompt = inPty(["login"], interactiveConfig);
    await prompt.waitFor("Hangar URL [http://localhost:3000]:", 10_000);
    prompt.type(inject("baseUrl") + "\r");
    await prompt.waitFor("API key or master key:");
    prompt.type(inject("masterKey") + "\r");
    expect(await prompt.exited()).toBe(0);
    const screen = await prompt.screen();
    expect(screen).toContain("Logged in to");
    expect(prompt.raw()).not.toContain(inject("masterKey"));
    expect(JSON.parse(fs.readFileSync(interactiveConfig, "utf8")).key).toBe(inject("masterKey"));
    expect(fs.statSync(interactiveConfig).mode & 0o777).toBe(0o600);
  });

  it("lists agents and sessions as tables and JSON; open on an API harness says how to message it", async () => {
    const config = await loggedIn();
    const codex = await createAgent({ harness_id: "codex", model: "hangar-test-model" });
    const sdk = await createAgent({ harness_id: "claude-agent-sdk", model: "hangar-test-model" });

    const json = await run(["agents", "--json"], { config });
    expect(json.code, json.stderr).toBe(0);
    const agents = JSON.parse(json.stdout);
    expect(agents.find((a: any) => a.id === codex.id)).toMatchObject({
      name: codex.name,
      harness_id: "codex",
    });
    const tableOut = await run(["agents"], { config });
    const codexLine = tableOut.stdout.split("\n").find((l) => l.includes(codex.id)) ?? "";
    expect(codexLine).toContain(codex.name);
    expect(codexLine).toContain("codex [tui]");
    const sdkLine = tableOut.stdout.split("\n").find((l) => l.includes(sdk.id)) ?? "";
    expect(sdkLine).toContain("claude-agent-sdk");
    expect(sdkLine).not.toContain("[tui]");

    const open = await run(["open", sdk.name], { config });
    expect(open.code, open.stderr).toBe(0);
    const id = open.stdout.trim().split("\n").at(-1)!;
    expect(id).toMatch(/^sess_/);
    expect(open.stdout).toContain(`${SESSIONS}/${id}/message`);
    expect(open.stdout).toContain("$HANGAR_KEY");
    expect(open.stderr).toMatch(/Ready in \d+ ms/);

    const sessions = await run(["sessions", "--agent", sdk.name, "--json"], { config });
    expect(sessions.code, sessions.stderr).toBe(0);
    expect(JSON.parse(sessions.stdout)).toEqual([
      expect.objectContaining({ id, agent_id: sdk.id, title: "hangar-cli", status: "ready" }),
    ]);
    const all = await run(["sessions", "--json"], { config });
    expect(JSON.parse(all.stdout).map((s: any) => s.id)).toContain(id);
    const sessionsTable = await run(["sessions", "--status", "ready"], { config });
    expect(sessionsTable.stdout.split("\n").find((l) => l.startsWith(id))).toMatch(
      /hangar-cli\s+agt_\S+\s+ready/,
    );
    const badStatus = await run(["sessions", "--status", "sleeping"], { config });
    expect(badStatus.code).toBe(2);

    const stop = await run(["stop", id], { config });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`Session ${id} stopped: dead`);
  });

  it("open on Codex: progress, the TUI, typing, detach; attach again; a read-only view; stop", async () => {
    const config = await loggedIn();
    const agent = await createAgent({ harness_id: "codex", model: "hangar-test-model" });

    const open = inPty(["open", agent.name], config);
    await open.waitFor("OpenAI Codex");
    const progress = stripAnsi(open.raw());
    expect(progress).toContain(`Starting ${agent.name} (codex)`);
    expect(progress).toMatch(/Ready in \d+ ms \(creating_sandbox \d+ ms.*starting_harness \d+ ms\)/);
    open.type("typed-through-the-cli");
    await open.waitFor("typed-through-the-cli");
    // Ctrl-] followed by anything but q is passed through: the CLI stays attached.
    open.type("\x1d");
    open.type("!");
    await open.waitFor("typed-through-the-cli!");
    open.type("\x1dq");
    expect(await open.exited()).toBe(0);
    const detached = await open.screen();
    const id = /Detached\. Reattach with: hangar attach (sess_\w+)/.exec(detached)?.[1];
    expect(id, detached).toBeDefined();
    // The local terminal left the TUI's alternate screen.
    expect(open.term.buffer.active.type).toBe("normal");
    expect((await api("GET", `${SESSIONS}/${id}`)).body.status).toBe("ready");

    // Reattach: the same screen, with what was typed. SIGTERM still restores the terminal.
    const again = inPty(["attach", id!], config);
    await again.waitFor("typed-through-the-cli!");
    expect(again.term.buffer.active.type).toBe("alternate");
    // The terminal has the CLI's size, and follows it when the window changes (SIGWINCH).
    const { tty_url } = (await api("GET", `${SESSIONS}/${id}`)).body;
    const watcher = await wsTerminal(
      `${inject("baseUrl").replace(/^http/, "ws")}${tty_url}&meta=1&mode=view`,
    );
    await until(() => watcher.statuses.some((s) => s.cols === 110 && s.rows === 32));
    again.resize(96, 28);
    await until(() => watcher.statuses.some((s) => s.cols === 96 && s.rows === 28));
    watcher.close();
    again.kill("SIGTERM");
    expect(await again.exited()).toBe(143);
    expect(again.term.buffer.active.type).toBe("normal");
    expect(stripAnsi(again.raw())).toContain("SIGTERM: detached from");

    // A viewer sees the screen but cannot type; stopping the session ends its view cleanly.
    const view = inPty(["attach", id!, "--view"], config);
    await view.waitFor("typed-through-the-cli!");
    view.type("typed-by-the-viewer");
    await new Promise((r) => setTimeout(r, 1500));
    expect(await view.screen()).not.toContain("typed-by-the-viewer");
    const stop = await run(["stop", id!], { config });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`Session ${id} stopped: dead`);
    expect(await view.exited()).toBe(0);
    expect(await view.screen()).toContain(`Session ${id} has ended (dead`);
    expect((await api("GET", `${SESSIONS}/${id}`)).body.status).toBe("dead");

    const after = await run(["attach", id!], { config });
    expect(after.code).toBe(1);
    expect(after.stderr).toContain(`Session ${id} has ended (dead`);
    expect(after.stderr).not.toMatch(/\n\s+at /);
    // The terminal token is never shown either.
    for (const text of [open.raw(), again.raw(), view.raw()]) expect(text).not.toMatch(/ttk_/);
  }, 60_000);

  it("a failing boot exits 1 with the failure reason", async () => {
    const config = await loggedIn();
    const agent = await createAgent({
      harness_id: "codex",
      model: "hangar-test-model",
      repo_url: "https://git.invalid/x.git",
    });
    const res = await run(["open", agent.name], { config });
    expect(res.code).toBe(1);
    // Without a terminal, progress is plain lines.
    expect(res.stderr).toMatch(new RegExp(`Starting ${agent.name} \\(codex\\): session sess_\\w+\\n`));
    expect(res.stderr).toMatch(/^\s+\d+ ms {2}cloning_repo$/m);
    expect(res.stderr).toMatch(
      /failed during cloning_repo after \d+ ms: clone failed: git\.invalid could not be reached/,
    );
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it("resolves agents by exact name or id; an ambiguous name lists the candidates and exits 2", async () => {
    const config = await loggedIn();
    const name = unique("twin");
    const a = await createAgent({ name, harness_id: "claude-agent-sdk" });
    const b = await createAgent({ name, harness_id: "claude-agent-sdk" });
    await createAgent({ name: `${name}-other`, harness_id: "claude-agent-sdk" });
    const ambiguous = await run(["open", name], { config });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`"${name}" names 2 agents`);
    expect(ambiguous.stderr).toContain(a.id);
    expect(ambiguous.stderr).toContain(b.id);
    const byId = await run(["sessions", "--agent", a.id, "--json"], { config });
    expect(byId.code, byId.stderr).toBe(0);
    expect(JSON.parse(byId.stdout)).toEqual([]);
    // API errors: the envelope's message, no stack.
    const unknownSession = await run(["attach", "sess_nope"], { config });
    expect(unknownSession.code).toBe(1);
    expect(unknownSession.stderr).toBe("hangar: session sess_nope not found\n");
    const missing = await run(["open", unique("nobody")], { config });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No agent named or with id");
  });

  it("login with an API key or as a user: says who it is, stores the login, works, and an ended login says so", async () => {
    const dir = tempDir("cli");
    const key = await api("POST", "/api/v1/api_keys", { body: { name: "cli key", role: "viewer" } });
    const keyConfig = path.join(dir, "key.json");
    const withKey = await run(["login", "--url", inject("baseUrl")], {
      config: keyConfig,
      input: key.body.key,
    });
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(withKey.stdout).toContain('as key "cli key" (viewer in Default)');
    expect(withKey.stdout + withKey.stderr).not.toContain(key.body.key);
    expect((await run(["agents", "--json"], { config: keyConfig })).code).toBe(0);

    const email = `${unique("cli")}@example.test`;
    const password = "a password for the cli test";
    const invite = await api("POST", "/api/v1/invites", { body: { email, role: "operator" } });
    await api("POST", `/api/v1/invites/accept/${invite.body.token}`, { key: null, body: { password } });
    const userConfig = path.join(dir, "user.json");
    const wrong = await run(["login", "--url", inject("baseUrl"), "--email", email], {
      config: userConfig,
      input: "not the password",
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("refused this email and password (401)");
    const ok = await run(["login", "--url", inject("baseUrl"), "--email", email], {
      config: userConfig,
      input: password,
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`as ${email} (operator in Default)`);
    const saved = JSON.parse(fs.readFileSync(userConfig, "utf8"));
    expect(Object.keys(saved).sort()).toEqual(["cookie", "url"]);
    expect(fs.statSync(userConfig).mode & 0o777).toBe(0o600);
    const listed = await run(["agents", "--json"], { config: userConfig });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout + ok.stdout).not.toContain(saved.cookie.split("=")[1]);
    expect(listed.stdout + ok.stdout + wrong.stderr).not.toContain(password);
    // Removing the user ends the login; the CLI says to log in again.
    const me = (await api("GET", "/api/v1/members")).body.data.find(
      (m: { email: string }) => m.email === email,
    );
    expect((await api("DELETE", `/api/v1/members/${me.user_id}`)).status).toBe(204);
    const ended = await run(["agents"], { config: userConfig });
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain("ended this login (401");
  });

  it("never prints the master key", () => {
    expect(printed.join("").length).toBeGreaterThan(1000);
    expect(printed.join("")).not.toContain(inject("masterKey"));
  });
});
