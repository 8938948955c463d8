import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { query, type SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { installedHarnessBinaries } from "@/lib/harness";
import { codexLaunch } from "@/lib/harness/codex/launch";
import { writeHarnessFiles } from "@/lib/harness/test-files";

import { listenBuiltinModel, type BuiltinModelServer, type BuiltinRequest } from "./index";

/*
 * The real harness binaries (pinned by package.json) against the built-in model on a loopback port, each
 * in a fresh HOME and working directory. Assertions are on what the harness produced — its printed
 * reply, files on disk — and on the request log. Settings per harness: harness-feasibility.md §2.
 */

const bins = installedHarnessBinaries();
for (const [name, file] of Object.entries(bins)) {
  if (!file) console.warn(`SKIPPING ${name} harness tests: its binary is not installed (npm ci)`);
}

let server: BuiltinModelServer;
beforeAll(async () => {
  server = await listenBuiltinModel();
});
afterAll(() => server.close());

type Workspace = { tag: string; home: string; cwd: string; base: string };
const workspaces: string[] = [];
afterEach(() => {
  for (const dir of workspaces.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function workspace(): Workspace {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-gw-harness-"));
  workspaces.push(root);
  const home = path.join(root, "home");
  const cwd = path.join(root, "work");
  fs.mkdirSync(home);
  fs.mkdirSync(cwd);
  const tag = `t${++counter}`;
  // The /session/<tag> prefix tags this test's requests in the built-in model's log.
  return { tag, home, cwd, base: `${server.url}/session/${tag}` };
}

const requestsOf = (ws: Workspace) => server.model.requests({ session: ws.tag });

type RunResult = { code: number | null; stdout: string; stderr: string };

function run(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  timeoutMs = 25_000,
): Promise<RunResult> {
  return new Promise((done, fail) => {
    const [command, ...args] = argv;
    if (!command) return fail(new Error("empty argv"));
    // Next's types mark NODE_ENV as required; the harness gets only the environment it is given.
    const child = spawn(command, args, {
      cwd,
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
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

const baseEnv = (ws: Workspace) => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: ws.home,
  LANG: "C.UTF-8",
});
const statuses = (entries: BuiltinRequest[]) => entries.map((r) => r.status);
const read = (ws: Workspace, file: string) => {
  const full = path.join(ws.cwd, file);
  return fs.existsSync(full) ? fs.readFileSync(full, "utf8") : null;
};
/** What the harness printed, for assertion messages. */
const printed = (out: RunResult) => `exit ${out.code}\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`;

describe.skipIf(!bins.claude)("Claude Code (claude -p, Anthropic Messages)", { timeout: 30_000 }, () => {
  const claudeEnv = (ws: Workspace) => ({
    ...baseEnv(ws),
    ANTHROPIC_BASE_URL: ws.base,
    ANTHROPIC_AUTH_TOKEN: "hangar-test-token",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
  });
  const claude = (ws: Workspace, ...args: string[]) =>
    run([bins.claude!, "-p", ...args], ws.cwd, claudeEnv(ws));

  it("prints the scripted reply and sends the appended system prompt", async () => {
    const ws = workspace();
    const out = await claude(ws, "Say hello to the model", "--append-system-prompt", "PROMPT-MARKER-7Q");
    expect(out.stdout.trim(), printed(out)).toBe('Hangar test model: you said "Say hello to the model"');
    const [first] = requestsOf(ws).filter((r) => r.api === "messages");
    expect(first).toMatchObject({ stream: true, userText: "Say hello to the model", status: 200 });
    expect(first?.system).toContain("PROMPT-MARKER-7Q");
    expect(first?.tools).toContain("Bash");
  });

  it("runs RUN: commands with its Bash tool and reports their output", async () => {
    const ws = workspace();
    const out = await claude(ws, "RUN: echo hi > marker.txt\nRUN: cat marker.txt", "--allowedTools", "Bash");
    expect(read(ws, "marker.txt"), printed(out)).toBe("hi\n");
    expect(out.stdout).toContain("Ran `cat marker.txt`:\nhi");
    expect(requestsOf(ws).map((r) => r.reply?.kind)).toEqual(["tool", "tool", "text"]);
  });

  it("writes a WRITE: file with its Write tool", async () => {
    const ws = workspace();
    const out = await claude(ws, "WRITE: notes/todo.md\n# Todo\n- ship it", "--allowedTools", "Write");
    expect(read(ws, "notes/todo.md"), printed(out)).toBe("# Todo\n- ship it\n");
    expect(requestsOf(ws)[0]?.reply).toMatchObject({ kind: "tool", tool: "Write" });
  });

  it("retries after a 429 and succeeds", async () => {
    const ws = workspace();
    const out = await claude(ws, "ERROR: 429 x1\nREPLY: recovered");
    expect(out.stdout.trim(), printed(out)).toBe("recovered");
    expect(statuses(requestsOf(ws))).toEqual([429, 200]);
  });
});

describe.skipIf(!bins.claude)("Claude Agent SDK (query)", { timeout: 30_000 }, () => {
  it("completes one turn through the SDK with its system prompt", async () => {
    const ws = workspace();
    const messages: SDKMessage[] = [];
    for await (const message of query({
      prompt: "Hello from the SDK",
      options: {
        cwd: ws.cwd,
        pathToClaudeCodeExecutable: bins.claude!,
        systemPrompt: "SDK-PROMPT-MARKER",
        maxTurns: 2,
        env: {
          ...baseEnv(ws),
          ANTHROPIC_BASE_URL: ws.base,
          ANTHROPIC_AUTH_TOKEN: "hangar-test-token",
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        },
      },
    })) {
      messages.push(message);
    }
    const result = messages.find((m) => m.type === "result");
    expect(result).toMatchObject({
      subtype: "success",
      result: 'Hangar test model: you said "Hello from the SDK"',
    });
    expect(requestsOf(ws)[0]?.system).toContain("SDK-PROMPT-MARKER");
  });
});

describe.skipIf(!bins.codex)("Codex (codex exec, OpenAI Responses)", { timeout: 30_000 }, () => {
  /** `codex exec` with the config.toml and AGENTS.md that Hangar's Codex launch writes. */
  function codex(ws: Workspace, prompt: string, model = "hangar-test-model") {
    const launch = codexLaunch(
      {
        model,
        prompt: "AGENTS-MARKER-K9\n",
        serverPassword: "",
        port: 0,
        modelBase: ws.base,
        modelToken: "",
      },
      { argv: [], title: "Codex" },
    );
    writeHarnessFiles(launch.files, ws.home, ws.cwd);
    const env = { ...baseEnv(ws), LITELLM_API_KEY: "hangar-test-token" };
    return run([bins.codex!, "exec", "--json", "--skip-git-repo-check", prompt], ws.cwd, env);
  }

  /** The agent_message texts of `codex exec --json` output. */
  function messagesOf(out: RunResult): string[] {
    return out.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { type: string; item?: { type: string; text?: string } })
      .flatMap((e) =>
        e.type === "item.completed" && e.item?.type === "agent_message" ? [e.item.text ?? ""] : [],
      );
  }

  it("prints the scripted reply, with AGENTS.md in the instructions", async () => {
    const ws = workspace();
    const out = await codex(ws, "Say hello to the model");
    expect(messagesOf(out), printed(out)).toEqual(['Hangar test model: you said "Say hello to the model"']);
    const [first] = requestsOf(ws);
    expect(first).toMatchObject({ api: "responses", stream: true, userText: "Say hello to the model" });
    expect(first?.system).toContain("AGENTS-MARKER-K9");
  });

  it("runs RUN: with exec_command and writes WRITE: through a shell heredoc", async () => {
    const ws = workspace();
    const out = await codex(ws, "RUN: echo hi > marker.txt\nWRITE: notes.txt\nit's $HOME");
    expect(read(ws, "marker.txt"), printed(out)).toBe("hi\n");
    expect(read(ws, "notes.txt"), printed(out)).toBe("it's $HOME\n");
    expect(requestsOf(ws).map((r) => (r.reply?.kind === "tool" ? r.reply.tool : r.reply?.kind))).toEqual([
      "exec_command",
      "exec_command",
      "text",
    ]);
    expect(messagesOf(out).at(-1)).toContain("Ran `echo hi > marker.txt`");
  });

  it("writes WRITE: with apply_patch when the model's metadata declares it", async () => {
    const ws = workspace();
    const out = await codex(ws, "WRITE: src/app.txt\nalpha\nbeta", "gpt-5.5");
    expect(read(ws, "src/app.txt"), printed(out)).toBe("alpha\nbeta\n");
    expect(requestsOf(ws)[0]?.reply).toMatchObject({ kind: "tool", tool: "apply_patch" });
  });

  it("retries after a 429 and succeeds", async () => {
    const ws = workspace();
    const out = await codex(ws, "ERROR: 429 x1\nREPLY: recovered");
    expect(messagesOf(out), printed(out)).toEqual(["recovered"]);
    expect(statuses(requestsOf(ws))).toEqual([429, 200]);
  });
});

describe.skipIf(!bins.opencode)(
  "opencode (opencode run, OpenAI chat completions)",
  { timeout: 90_000 },
  () => {
    function opencode(ws: Workspace, prompt: string) {
      const config = {
        $schema: "https://opencode.ai/config.json",
        provider: {
          hangar: {
            npm: "@ai-sdk/openai-compatible",
            name: "Hangar test model",
            options: { baseURL: `${ws.base}/v1`, apiKey: "hangar-test-token" },
            models: { "hangar-test-model": { name: "Hangar test model" } },
          },
        },
        model: "hangar/hangar-test-model",
        small_model: "hangar/hangar-test-model",
        autoupdate: false,
        share: "disabled",
      };
      const env = {
        ...baseEnv(ws),
        OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
        OPENCODE_DISABLE_MODELS_FETCH: "1",
        OPENCODE_DISABLE_AUTOUPDATE: "1",
      };
      return run([bins.opencode!, "run", prompt], ws.cwd, env, 80_000);
    }
    const plain = (out: RunResult) => out.stdout.replace(/\x1b\[[0-9;]*m/g, "");
    const mainCalls = (ws: Workspace) => requestsOf(ws).filter((r) => r.tools.length > 0);

    it("prints the scripted reply, with AGENTS.md in the system prompt", async () => {
      const ws = workspace();
      fs.writeFileSync(path.join(ws.cwd, "AGENTS.md"), "OPENCODE-MARKER-3Z\n");
      const out = await opencode(ws, "Say hello to the model");
      expect(plain(out), printed(out)).toContain('Hangar test model: you said "Say hello to the model"');
      const [main] = mainCalls(ws);
      expect(main).toMatchObject({ api: "chat", stream: true });
      expect(main?.system).toContain("OPENCODE-MARKER-3Z");
    });

    it("runs RUN: with its bash tool and WRITE: with its write tool", async () => {
      const ws = workspace();
      const out = await opencode(ws, "RUN: echo hi > marker.txt\nWRITE: notes.txt\nalpha\nbeta");
      expect(read(ws, "marker.txt"), printed(out)).toBe("hi\n");
      expect(read(ws, "notes.txt"), printed(out)).toBe("alpha\nbeta\n");
      expect(mainCalls(ws).map((r) => (r.reply?.kind === "tool" ? r.reply.tool : r.reply?.kind))).toEqual([
        "bash",
        "write",
        "text",
      ]);
      expect(plain(out), printed(out)).toContain("Ran `echo hi > marker.txt`");
    });

    it("retries after a 429 and succeeds", async () => {
      const ws = workspace();
      const out = await opencode(ws, "ERROR: 429 x1\nREPLY: recovered");
      expect(plain(out), printed(out)).toContain("recovered");
      expect(statuses(mainCalls(ws))).toEqual([429, 200]);
    });
  },
);
