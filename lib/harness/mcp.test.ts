import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

import { McpServer as McpTestServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createBuiltinModel, type BuiltinModel } from "@/lib/models/builtin";
import type { HarnessId } from "@/lib/schemas/harness";

import { createClaudeSdkSession } from "./claude-agent-sdk/session";
import { CLAUDE_MODEL_BASE, claudeMcpConnections, resolveMcpServers } from "./mcp";
import { harnessLaunch, installedHarnessBinaries } from "./registry";
import { writeHarnessFiles } from "./test-files";
import type { HarnessSession } from "./turn";
import type { HarnessContext } from "./types";

const BASE = "http://127.0.0.1:4000";
const NAME = /^[A-Za-z0-9_-]{1,32}$/;

describe("resolveMcpServers", () => {
  it("sends a LiteLLM id through the model endpoint and a URL as it is", () => {
    expect(resolveMcpServers(["github", "https://mcp.linear.app/sse?x=1"], `${BASE}/`)).toEqual([
      { name: "github", url: `${BASE}/mcp/github`, viaGateway: true },
      { name: "mcp-linear-app", url: "https://mcp.linear.app/sse?x=1", viaGateway: false },
    ]);
  });

  it("names URLs by host, unique regardless of case, LiteLLM ids keeping theirs", () => {
    const servers = resolveMcpServers(
      [
        "https://www.Example.com/a",
        "http://example.com:8080/b",
        "Example-com",
        "https://example.com/c",
        "http://127.0.0.1:9000/mcp",
      ],
      BASE,
    );
    expect(servers.map((s) => [s.name, s.viaGateway])).toEqual([
      ["example-com-2", false],
      ["example-com-3", false],
      ["Example-com", true],
      ["example-com-4", false],
      ["127-0-0-1", false],
    ]);
  });

  it("keeps names valid and the id intact in the URL", () => {
    const long = "x".repeat(40);
    const servers = resolveMcpServers(["team/jira tools", "  ", "!!!", long, `${long}.example`], BASE);
    expect(servers.map((s) => s.url)).toEqual([
      `${BASE}/mcp/team%2Fjira%20tools`,
      `${BASE}/mcp/!!!`,
      `${BASE}/mcp/${long}`,
      `${BASE}/mcp/${long}.example`,
    ]);
    expect(servers.map((s) => s.name)).toEqual([
      "team-jira-tools",
      "mcp",
      "x".repeat(32),
      `${"x".repeat(30)}-2`,
    ]);
    for (const s of servers) expect(s.name).toMatch(NAME);
  });

  it("skips other schemes, broken URLs and repeats", () => {
    const servers = resolveMcpServers(
      ["ws://a.example/mcp", "stdio://npx server", "https://", "github", "github", `${BASE}/mcp/github`],
      BASE,
    );
    expect(servers).toEqual([{ name: "github", url: `${BASE}/mcp/github`, viaGateway: true }]);
  });

  it("never leaves a variable for a harness to expand in a URL", () => {
    const [server] = resolveMcpServers(
      ["https://evil.example/p?t=${LITELLM_API_KEY}&o={env:LITELLM_API_KEY}"],
      BASE,
    );
    expect(server?.url).toBe("https://evil.example/p?t=$%7BLITELLM_API_KEY%7D&o=%7Benv:LITELLM_API_KEY%7D");
  });

  it("gives Claude Code the session token only for LiteLLM servers, as a variable", () => {
    const servers = resolveMcpServers(["github", "https://mcp.example.com/mcp"], CLAUDE_MODEL_BASE);
    expect(claudeMcpConnections(servers)).toEqual([
      {
        name: "github",
        url: "${LITELLM_API_BASE}/mcp/github",
        headers: { Authorization: "Bearer ${LITELLM_API_KEY}" },
      },
      { name: "mcp-example-com", url: "https://mcp.example.com/mcp" },
    ]);
  });
});

const TOKEN = "tok-mcp-5b1e";

function context(mcpServers: string[] | undefined, modelBase = BASE): HarnessContext {
  return {
    model: "hangar-test-model",
    prompt: "",
    serverPassword: "pw",
    port: 4096,
    modelBase,
    modelToken: TOKEN,
    mcpServers,
  };
}

function fileOf(harness: HarnessId, file: string, ctx: HarnessContext): string {
  const found = harnessLaunch(harness, ctx).files.find((f) => f.path === file);
  if (!found) throw new Error(`${harness} writes no ${file}`);
  return found.content;
}

describe("harness configs", () => {
  const entries = ["github", "https://mcp.example.com/mcp"];

  it("opencode: remote servers, the token from the environment", () => {
    const config = JSON.parse(fileOf("opencode", "~/.config/opencode/opencode.json", context(entries)));
    expect(config.mcp).toEqual({
      github: {
        type: "remote",
        url: `${BASE}/mcp/github`,
        enabled: true,
        headers: { Authorization: "Bearer {file:{{PRIVATE}}/model-token}" },
      },
      "mcp-example-com": { type: "remote", url: "https://mcp.example.com/mcp", enabled: true },
    });
    expect(
      JSON.parse(fileOf("opencode", "~/.config/opencode/opencode.json", context([]))),
    ).not.toHaveProperty("mcp");
  });

  it("Claude Code: user-scope HTTP servers with ${LITELLM_API_KEY}", () => {
    for (const harness of ["claude-code", "claude-agent-sdk"] as const) {
      const state = JSON.parse(fileOf(harness, "~/.claude.json", context(entries)));
      expect(state.mcpServers).toEqual({
        github: {
          type: "http",
          url: `${BASE}/mcp/github`,
          headers: { Authorization: "Bearer ${LITELLM_API_KEY}" },
        },
        "mcp-example-com": { type: "http", url: "https://mcp.example.com/mcp" },
      });
      expect(state.hasCompletedOnboarding).toBe(true);
      expect(JSON.parse(fileOf(harness, "~/.claude.json", context(undefined)))).not.toHaveProperty(
        "mcpServers",
      );
    }
  });

  it("Codex: streamable HTTP servers, the bearer token from LITELLM_API_KEY", () => {
    const config = fileOf("codex", "~/.codex/config.toml", context(entries));
    expect(config).toContain(
      `\n[mcp_servers.github]\nurl = "${BASE}/mcp/github"\nbearer_token_env_var = "LITELLM_API_KEY"\n`,
    );
    expect(config).toContain(`\n[mcp_servers.mcp-example-com]\nurl = "https://mcp.example.com/mcp"\n`);
    expect(config.match(/bearer_token_env_var/g)).toHaveLength(1);
    expect(fileOf("codex", "~/.codex/config.toml", context([]))).not.toContain("mcp_servers");
  });

  it("never writes the session token into a config file", () => {
    for (const harness of ["opencode", "claude-code", "claude-agent-sdk", "codex"] as const) {
      for (const file of harnessLaunch(harness, context(entries)).files)
        expect(file.content).not.toContain(TOKEN);
    }
  });
});

/*
 * The real harness binaries against a real MCP server (the MCP SDK's streamable HTTP transport) on a
 * loopback port, each in a fresh HOME holding the files harnessLaunch lists. One server plays both
 * sides: `/mcp/<id>` under the model base is the per-session model endpoint's LiteLLM route (every
 * other path is the built-in model), and `/foreign/mcp` is a server listed by URL. It records
 * each request's JSON-RPC method and Authorization header: LiteLLM servers must get the session
 * token, which exists only in the harness's environment, and foreign ones no token at all.
 */

const bins = installedHarnessBinaries();
for (const [name, file] of Object.entries(bins)) {
  if (!file) console.warn(`SKIPPING ${name} MCP tests: its binary is not installed (npm ci)`);
}

type Hit = { path: string; auth: string | null; methods: string[] };

let front: http.Server;
let base = "";
let builtin: BuiltinModel;
const hits: Hit[] = [];

function methodsOf(body: unknown): string[] {
  return (Array.isArray(body) ? body : [body]).flatMap((m: { method?: unknown }) =>
    typeof m?.method === "string" ? [m.method] : [],
  );
}

/** A stateless MCP server with one tool, `ping`. */
async function serveMcp(req: http.IncomingMessage, res: http.ServerResponse, body: unknown) {
  const server = new McpTestServer({ name: "hangar-probe", version: "1.0.0" });
  server.registerTool("ping", { description: "Answers pong." }, async () => ({
    content: [{ type: "text", text: "pong" }],
  }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

beforeAll(async () => {
  builtin = createBuiltinModel();
  front = http.createServer((req, res) => {
    const url = req.url ?? "/";
    if (!url.startsWith("/mcp/") && !url.startsWith("/foreign/")) return void builtin.handle(req, res, {});
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      hits.push({
        path: url.split("?")[0]!,
        auth: req.headers.authorization ?? null,
        methods: methodsOf(body),
      });
      serveMcp(req, res, body).catch(() => res.destroy());
    });
  });
  await new Promise<void>((done) => front.listen(0, "127.0.0.1", done));
  base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});
afterAll(async () => {
  front?.closeAllConnections();
  await new Promise((done) => front?.close(done));
});

const roots: string[] = [];
const children: ChildProcess[] = [];
const sessions: HarnessSession[] = [];
beforeEach(() => {
  hits.length = 0;
  builtin.clear({});
});
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of roots.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

type Box = { home: string; cwd: string; env: Record<string, string> };

/** A HOME with the harness's files and the environment a sandbox would give it (no proxy: loopback only). */
function box(harness: HarnessId, entries: string[] = ["probe", `${base}/foreign/mcp`]): Box {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-mcp-"));
  roots.push(root);
  const home = path.join(root, "home");
  const cwd = path.join(root, "work");
  fs.mkdirSync(home);
  fs.mkdirSync(cwd);
  const launch = harnessLaunch(harness, context(entries, base));
  writeHarnessFiles(launch.files, home, cwd, TOKEN);
  const env = {
    ...launch.env,
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    LANG: "C.UTF-8",
    LITELLM_API_BASE: base,
    LITELLM_API_KEY: TOKEN,
  };
  return { home, cwd, env };
}

type RunResult = { code: number | null; stdout: string; stderr: string };

function run(argv: string[], b: Box, timeoutMs = 25_000): Promise<RunResult> {
  return new Promise((done, fail) => {
    const [command, ...args] = argv;
    // Next's types mark NODE_ENV as required; the harness gets only the environment it is given.
    const child = spawn(command!, args, { cwd: b.cwd, env: b.env as NodeJS.ProcessEnv, stdio: "pipe" });
    children.push(child);
    child.stdin.end();
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const printed = (out: RunResult) => `exit ${out.code}\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`;
const FOREIGN = "127-0-0-1";

/** Both servers were reached and asked for their tools: LiteLLM's with the token, the foreign one without. */
function expectConnected(methods: string[] = ["initialize", "tools/list"]) {
  const probe = hits.filter((h) => h.path === "/mcp/probe");
  const foreign = hits.filter((h) => h.path === "/foreign/mcp");
  const shown = JSON.stringify(hits, null, 1);
  for (const [side, seen] of [
    ["probe", probe],
    ["foreign", foreign],
  ] as const) {
    for (const method of methods)
      expect(
        seen.flatMap((h) => h.methods),
        `${side}: ${shown}`,
      ).toContain(method);
  }
  expect(new Set(probe.map((h) => h.auth))).toEqual(new Set([`Bearer ${TOKEN}`]));
  expect(new Set(foreign.map((h) => h.auth))).toEqual(new Set([null]));
}

describe.skipIf(!bins.opencode)("opencode 1.18.33 with the agent's MCP servers", { timeout: 60_000 }, () => {
  it("accepts the config and connects to both servers", async () => {
    const b = box("opencode");
    const config = await run([bins.opencode!, "debug", "config"], b);
    expect(config.code, printed(config)).toBe(0);
    expect(Object.keys(JSON.parse(config.stdout).mcp)).toEqual(["probe", FOREIGN]);

    const list = await run([bins.opencode!, "mcp", "list"], b);
    expect(list.stdout, printed(list)).toMatch(/✓ probe\b[^\n]*connected/);
    expect(list.stdout, printed(list)).toMatch(new RegExp(`✓ ${FOREIGN}\\b[^\\n]*connected`));
    expectConnected();
  });
});

describe.skipIf(!bins.claude)("Claude Code 2.1.332 with the agent's MCP servers", { timeout: 60_000 }, () => {
  it("TUI: `claude mcp list` connects to the user-scope servers in ~/.claude.json", async () => {
    const b = box("claude-code");
    const list = await run([bins.claude!, "mcp", "list"], b);
    expect(list.stdout, printed(list)).toMatch(/^probe: \S+\/mcp\/probe \(HTTP\) - ✔ Connected$/m);
    expect(list.stdout, printed(list)).toMatch(
      new RegExp(`^${FOREIGN}: \\S+/foreign/mcp \\(HTTP\\) - ✔ Connected$`, "m"),
    );
    expectConnected();
  });

  it("Agent SDK: the servers come in the query options, and their tools reach the model", async () => {
    // No servers in ~/.claude.json: whatever the CLI connects to came through the options.
    const b = box("claude-agent-sdk", []);
    const spawned: string[][] = [];
    const session = await createClaudeSdkSession({
      model: "hangar-test-model",
      prompt: "",
      harnessSessionId: null,
      // What lib/sessions/messaging.ts passes: the host knows neither the sandbox's port nor the token.
      mcpServers: claudeMcpConnections(
        resolveMcpServers(["probe", `${base}/foreign/mcp`], CLAUDE_MODEL_BASE),
      ),
      spawn: (argv, { env }) => {
        spawned.push(argv);
        const [command, ...args] = argv;
        // The CLI refuses bypassPermissions as root unless told it is sandboxed (the sandbox is uid 1000).
        const childEnv: Record<string, string> = { ...b.env, IS_SANDBOX: "1", ...env };
        const child = spawn(command!, args, {
          cwd: b.cwd,
          env: childEnv as NodeJS.ProcessEnv,
          stdio: "pipe",
        });
        children.push(child);
        return child;
      },
    });
    sessions.push(session);
    const summary = await session.turn({
      text: "Say hello",
      signal: new AbortController().signal,
      emit: async () => undefined,
    });
    expect(summary.finish, JSON.stringify(summary)).toBe("stop");
    // Claude Code defers MCP tools behind ToolSearch: the model gets their names in its context.
    const [first] = builtin.requests({ api: "messages" }).filter((r) => r.tools.includes("ToolSearch"));
    expect(first?.system).toContain("mcp__probe__ping");
    expect(first?.system).toContain(`mcp__${FOREIGN}__ping`);
    expectConnected();
    // Delivered over the initialize request: nothing about the servers on the command line.
    expect(spawned.flat().join(" ")).not.toMatch(/mcp-config|probe/);
  });
});

describe.skipIf(!bins.codex)("Codex 0.171.0 with the agent's MCP servers", { timeout: 60_000 }, () => {
  it("`codex mcp list` reads both, the LiteLLM one with its bearer token variable", async () => {
    const b = box("codex");
    const list = await run([bins.codex!, "mcp", "list", "--json"], b);
    expect(list.code, printed(list)).toBe(0);
    const servers = JSON.parse(list.stdout) as {
      name: string;
      enabled: boolean;
      transport: { type: string; url: string; bearer_token_env_var: string | null };
    }[];
    expect(
      servers.map((s) => [
        s.name,
        s.enabled,
        s.transport.type,
        s.transport.url,
        s.transport.bearer_token_env_var,
      ]),
    ).toEqual([
      [FOREIGN, true, "streamable_http", `${base}/foreign/mcp`, null],
      ["probe", true, "streamable_http", `${base}/mcp/probe`, "LITELLM_API_KEY"],
    ]);
  });

  it("`codex exec` connects to both servers and lists their tools", async () => {
    const b = box("codex");
    const out = await run([bins.codex!, "exec", "--json", "--skip-git-repo-check", "Say hello"], b);
    expect(out.stdout, printed(out)).toContain('Hangar test model: you said \\"Say hello\\"');
    expectConnected();
  });
});
