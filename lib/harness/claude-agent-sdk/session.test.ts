import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { listenBuiltinModel, type BuiltinModelServer } from "@/lib/models/builtin";
import { turnEventSchema, type TurnEvent } from "@/lib/schemas/session-event";

import { claudeBinary } from "../claude-code/binary";
import type { HarnessSession, HarnessSessionOptions, TurnSummary } from "../turn";
import { claudeAgentSdkHarness } from "./harness";
import { createClaudeSdkSession, type ClaudeSdkSessionOptions } from "./session";

/*
 * The adapter with the real Agent SDK, the real `claude` binary and the built-in model on a
 * loopback port. There is no sandbox here: `options.spawn` starts the CLI on the host, in a fresh
 * HOME (the files its launch lists) and workspace, with the harness environment it lists —
 * what Hangar's sandbox spawn provides. A small recording proxy in front of the built-in model keeps each
 * request's raw body, to see what history the CLI sends.
 */

const PROMPT = "You are a test agent. Marker: P-456.";
const MODEL = "hangar-test-model";
// Distinctive, so a test can tell it never reaches an error message.
const MODEL_TOKEN = "tok-7f3a9c";

const claudeInstalled = (() => {
  try {
    return fs.existsSync(claudeBinary.file());
  } catch {
    return false;
  }
})();
if (!claudeInstalled) console.warn("SKIPPING claude-sdk adapter tests: the claude binary is not installed");

let builtin: BuiltinModelServer;
let proxy: http.Server;
let proxyUrl: string;
const bodies: { path: string; body: MessagesBody }[] = [];

type MessagesBody = { messages?: { role: string; content: unknown }[] };

/** Forwards to the built-in model unchanged and keeps the decoded body of each Messages request. */
function recordingProxy(target: URL): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "/";
      const raw = Buffer.concat(chunks);
      if (/\/messages(\?|$)/.test(url)) {
        const encoding = req.headers["content-encoding"];
        const text = (
          encoding === "gzip"
            ? zlib.gunzipSync(raw)
            : encoding === "br"
              ? zlib.brotliDecompressSync(raw)
              : raw
        ).toString("utf8");
        bodies.push({ path: url, body: JSON.parse(text) as MessagesBody });
      }
      const upstream = http.request(
        { host: target.hostname, port: target.port, path: url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      res.on("close", () => upstream.destroy());
      upstream.end(raw);
    });
  });
}

beforeAll(async () => {
  builtin = await listenBuiltinModel();
  proxy = recordingProxy(new URL(builtin.url));
  await new Promise<void>((done) => proxy.listen(0, "127.0.0.1", done));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((done) => proxy?.close(done));
  await builtin?.close();
});

type Box = {
  tag: string;
  root: string;
  home: string;
  cwd: string;
  /** The harness environment the sandbox would apply. */
  env: Record<string, string>;
  /** What the adapter asked each spawn for. */
  spawned: { argv: string[]; env: Record<string, string>; cwd?: string }[];
};

const roots: string[] = [];
const children: ChildProcess[] = [];
const sessions: HarnessSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of roots.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function sandbox(): Box {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-claude-sdk-"));
  roots.push(root);
  const home = path.join(root, "home");
  const cwd = path.join(root, "work");
  fs.mkdirSync(home);
  fs.mkdirSync(cwd);
  const tag = `sdk${++counter}`;
  const launch = claudeAgentSdkHarness.launch({
    model: MODEL,
    prompt: PROMPT,
    serverPassword: "x",
    port: 4096,
    // The /session/<tag> prefix files this test's requests under its own tag in the built-in model's log.
    modelBase: `${proxyUrl}/session/${tag}`,
    modelToken: MODEL_TOKEN,
  });
  for (const file of launch.files) {
    const full = path.join(home, file.path.replace(/^~\//, ""));
    const content = file.template
      ? file.content.replaceAll("{{WORKSPACE}}", cwd).replaceAll("{{HOME}}", home)
      : file.content;
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
  const env = {
    ...launch.env,
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    LANG: "C.UTF-8",
    // The CLI refuses bypassPermissions as root unless told it is sandboxed. Inside Hangar's sandbox
    // it runs as uid 1000 and needs no such flag; this test runs it on the host, as root.
    IS_SANDBOX: "1",
    // The CLI retries a 5xx up to 10 times with backoff (minutes); one retry keeps the error test short.
    CLAUDE_CODE_MAX_RETRIES: "1",
  };
  return { tag, root, home, cwd, env, spawned: [] };
}

/** Hangar's sandbox spawn, on the host: the harness environment, then what the adapter adds. */
function hostSpawn(box: Box, program?: string): NonNullable<HarnessSessionOptions["spawn"]> {
  return (argv, { env, cwd }) => {
    box.spawned.push({ argv, env, cwd });
    const [command, ...args] = argv;
    const child = spawn(program ?? command!, args, {
      cwd: cwd ?? box.cwd,
      // Next's types mark NODE_ENV as required; the CLI gets only the environment it is given.
      env: { ...box.env, ...env } as NodeJS.ProcessEnv,
      stdio: "pipe",
    });
    children.push(child);
    return child;
  };
}

async function open(box: Box, extra: Partial<ClaudeSdkSessionOptions> = {}): Promise<HarnessSession> {
  const session = await createClaudeSdkSession({
    model: MODEL,
    prompt: PROMPT,
    harnessSessionId: null,
    spawn: hostSpawn(box),
    ...extra,
  });
  sessions.push(session);
  return session;
}

type Turn = { summary: TurnSummary; events: TurnEvent[] };

async function turn(
  session: HarnessSession,
  text: string,
  options: { signal?: AbortSignal; onEvent?: (event: TurnEvent) => void } = {},
): Promise<Turn> {
  const events: TurnEvent[] = [];
  const summary = await session.turn({
    text,
    signal: options.signal ?? new AbortController().signal,
    emit: async (event) => {
      events.push(turnEventSchema.parse(event));
      options.onEvent?.(event);
    },
  });
  return { summary, events };
}

const requestsOf = (box: Box) => builtin.model.requests({ session: box.tag, api: "messages" });
const bodiesOf = (box: Box) => bodies.filter((b) => b.path.startsWith(`/session/${box.tag}/`));
const ofType = <T extends TurnEvent["type"]>(events: TurnEvent[], type: T) =>
  events.filter((e): e is Extract<TurnEvent, { type: T }> => e.type === type);
const shown = (t: Turn) => JSON.stringify({ summary: t.summary, events: t.events }, null, 1);

describe.skipIf(!claudeInstalled)("createClaudeSdkSession", { timeout: 30_000 }, () => {
  it("streams a plain reply, then reports its text, tokens and session", async () => {
    const box = sandbox();
    const session = await open(box);
    const t = await turn(session, "Say hello to the model");
    const reply = 'Hangar test model: you said "Say hello to the model"';

    expect(t.summary, shown(t)).toMatchObject({ finish: "stop", harnessSessionId: expect.any(String) });
    expect(t.summary.tokens.input).toBeGreaterThan(0);
    expect(t.summary.tokens.output).toBeGreaterThan(0);
    expect(t.summary.cost_usd).toBeGreaterThan(0);
    const deltas = ofType(t.events, "assistant_delta");
    const texts = ofType(t.events, "assistant_text");
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((d) => d.text).join("")).toBe(reply);
    expect(texts).toEqual([{ type: "assistant_text", part_id: deltas[0]!.part_id, text: reply }]);
    expect(new Set(deltas.map((d) => d.part_id)).size).toBe(1);
    expect(t.events.at(-1)).toEqual(texts[0]);

    // The prompt is in the very first request, once: appended to the system prompt, not loaded
    // a second time from ~/.claude/CLAUDE.md.
    const [first] = requestsOf(box);
    expect(first?.system.split("P-456").length).toBe(2);
    // The CLI got only the SDK's own variables, nothing of Hangar's environment.
    const [spawned] = box.spawned;
    expect(spawned?.argv[0]).toBe(claudeBinary.file());
    expect(spawned?.cwd).toBeUndefined();
    expect(Object.keys(spawned?.env ?? {})).toEqual(
      expect.arrayContaining(["CLAUDE_CODE_ENTRYPOINT", "CLAUDE_AGENT_SDK_VERSION"]),
    );
    expect(Object.keys(spawned?.env ?? {}).filter((k) => !/^(CLAUDE_|BUN_)/.test(k))).toEqual([]);
  });

  it("maps thinking, tool calls and their results, in order", async () => {
    const box = sandbox();
    const session = await open(box);
    const t = await turn(session, "THINK: planning the run\nRUN: echo sdk > sdk.txt\nRUN: cat missing.txt");

    expect(t.summary.finish, shown(t)).toBe("stop");
    expect(fs.readFileSync(path.join(box.cwd, "sdk.txt"), "utf8")).toBe("sdk\n");
    const kinds = t.events.filter((e) => !e.type.endsWith("_delta")).map((e) => e.type);
    // The built-in model thinks on the turn's first request only.
    expect(kinds).toEqual([
      "thinking",
      "tool_call",
      "tool_result",
      "tool_call",
      "tool_result",
      "assistant_text",
    ]);
    const [thinking] = ofType(t.events, "thinking");
    const thinkingDeltas = ofType(t.events, "thinking_delta").filter((d) => d.part_id === thinking?.part_id);
    expect(thinking?.text).toBe("planning the run");
    expect(thinkingDeltas.map((d) => d.text).join("")).toBe("planning the run");

    const [echo, cat] = ofType(t.events, "tool_call");
    expect(echo).toMatchObject({ tool: "Bash", input: { command: "echo sdk > sdk.txt" } });
    expect(cat).toMatchObject({ tool: "Bash", input: { command: "cat missing.txt" } });
    const [echoed, failed] = ofType(t.events, "tool_result");
    expect(echoed).toMatchObject({ call_id: echo?.call_id, tool: "Bash", is_error: false });
    expect(failed).toMatchObject({ call_id: cat?.call_id, tool: "Bash", is_error: true });
    expect(failed?.output).toContain("No such file");
    expect(ofType(t.events, "assistant_text").at(-1)?.text).toContain("Ran `echo sdk > sdk.txt`");
  });

  it("resumes the SDK session on the next turn and from a new adapter", async () => {
    const box = sandbox();
    const first = await turn(await open(box), "First turn, remember R-123");
    const id = first.summary.harnessSessionId;
    expect(id, shown(first)).toMatch(/^[0-9a-f-]{36}$/);

    const session = sessions[0]!;
    const second = await turn(session, "Second turn");
    expect(second.summary, shown(second)).toMatchObject({ finish: "stop", harnessSessionId: id });

    const later = await open(box, { harnessSessionId: id });
    const third = await turn(later, "Third turn");
    expect(third.summary, shown(third)).toMatchObject({ finish: "stop", harnessSessionId: id });
    // Each turn's cost is its own, although the CLI's total runs on across resumes.
    expect(third.summary.cost_usd).toBeLessThan(first.summary.cost_usd! * 1.5);

    const texts = bodiesOf(box).map((b) => JSON.stringify(b.body.messages));
    expect(texts).toHaveLength(3);
    expect(texts[0]).not.toContain("Second turn");
    for (const history of texts.slice(1)) {
      expect(history).toContain("First turn, remember R-123");
      expect(history).toContain('you said \\"First turn, remember R-123\\"');
    }
    expect(texts[2]).toContain("Second turn");
    // The prompt reached the first request; resumed ones reuse the recorded system prompt.
    expect(requestsOf(box).every((r) => r.system.includes("P-456"))).toBe(true);
  });

  it("stops mid-stream on abort, and the next turn still works", async () => {
    const box = sandbox();
    const session = await open(box);
    const controller = new AbortController();
    let abortedAt = 0;
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const t = await turn(session, `SLOW: 300\nREPLY: ${words}`, {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === "assistant_delta" && !abortedAt) {
          abortedAt = Date.now();
          controller.abort();
        }
      },
    });

    expect(t.summary, shown(t)).toMatchObject({ finish: "aborted" });
    expect(Date.now() - abortedAt).toBeLessThan(3_000);
    expect(ofType(t.events, "assistant_text")).toEqual([]);
    await expect.poll(() => requestsOf(box)[0]?.aborted).toBe(true);

    const next = await turn(session, "After the abort");
    expect(next.summary, shown(next)).toMatchObject({ finish: "stop" });
    expect(ofType(next.events, "assistant_text")[0]?.text).toContain("After the abort");
  });

  it("resolves an already aborted turn without starting the CLI", async () => {
    const box = sandbox();
    const session = await open(box);
    const t = await turn(session, "never sent", { signal: AbortSignal.abort() });
    expect(t.summary.finish).toBe("aborted");
    expect(box.spawned).toEqual([]);
  });

  it("reports a model endpoint that keeps failing as an error", async () => {
    const box = sandbox();
    const session = await open(box);
    // The scripted error message echoes the token, as a careless upstream might.
    const t = await turn(session, `ERROR: 500 upstream refused Authorization: Bearer ${MODEL_TOKEN}`);

    expect(t.summary, shown(t)).toMatchObject({ finish: "error", error: expect.stringContaining("500") });
    expect(t.summary.error).toContain("Claude Code got no reply from the model");
    expect(t.summary.error).toContain("upstream refused Authorization: Bearer [redacted]");
    expect(t.summary.error).not.toContain(MODEL_TOKEN);
    // The synthetic "API Error" message is the summary's, not the assistant's text.
    expect(ofType(t.events, "assistant_text")).toEqual([]);
    expect(requestsOf(box).map((r) => r.status)).toEqual([500, 500]);
  });

  it("reports a CLI that cannot start, with its last stderr lines", async () => {
    const box = sandbox();
    const missing = await open(box, { spawn: hostSpawn(box, path.join(box.root, "no-such-claude")) });
    const t = await turn(missing, "hello");
    expect(t.summary, shown(t)).toMatchObject({ finish: "error" });
    expect(t.summary.error).toMatch(/Claude Code failed in the sandbox: it could not be started \(.*ENOENT/);

    // As root without IS_SANDBOX the CLI refuses bypassPermissions and exits: a real start failure.
    if (process.getuid?.() !== 0) return;
    const refusing = sandbox();
    delete refusing.env.IS_SANDBOX;
    const refused = await turn(await open(refusing), "hello");
    expect(refused.summary, shown(refused)).toMatchObject({ finish: "error" });
    expect(refused.summary.error).toContain("Last stderr lines:");
    expect(refused.summary.error).toContain("cannot be used with root/sudo privileges");
  });

  it("asks before tools when permissions are 'ask', and honours each answer", async () => {
    const box = sandbox();
    const session = await open(box, { permissions: "ask" });
    const answers = ["once", "reject"] as const;
    let asked = 0;
    const t = await turn(session, "RUN: echo yes > yes.txt\nRUN: echo no > no.txt", {
      onEvent: (event) => {
        if (event.type === "permission_request")
          void session.answerPermission(event.permission_id, answers[asked++]!);
      },
    });

    expect(t.summary.finish, shown(t)).toBe("stop");
    expect(fs.existsSync(path.join(box.cwd, "yes.txt"))).toBe(true);
    expect(fs.existsSync(path.join(box.cwd, "no.txt"))).toBe(false);
    const kinds = t.events.filter((e) => !e.type.endsWith("_delta")).map((e) => e.type);
    expect(kinds).toEqual([
      "tool_call",
      "permission_request",
      "permission_reply",
      "tool_result",
      "tool_call",
      "permission_request",
      "permission_reply",
      "tool_result",
      "assistant_text",
    ]);
    const [yes, no] = ofType(t.events, "permission_request");
    const calls = ofType(t.events, "tool_call");
    expect(yes).toMatchObject({ permission_id: calls[0]?.call_id, tool: "Bash" });
    expect(no).toMatchObject({ permission_id: calls[1]?.call_id, tool: "Bash" });
    expect(ofType(t.events, "permission_reply").map((r) => r.reply)).toEqual(["once", "reject"]);
    expect(ofType(t.events, "tool_result").map((r) => r.is_error)).toEqual([false, true]);
    await expect(session.answerPermission("nope", "once")).rejects.toThrow(/no permission request/);
  });

  it("remembers an 'always' answer for later turns", async () => {
    const box = sandbox();
    const requests: TurnEvent[] = [];
    const session = await open(box, { permissions: "ask" });
    const onEvent = (event: TurnEvent) => {
      if (event.type !== "permission_request") return;
      requests.push(event);
      void session.answerPermission(event.permission_id, "always");
    };
    const first = await turn(session, "RUN: echo one > one.txt", { onEvent });
    // Claude Code suggests the rule `Bash(echo one *)`; a later turn's CLI gets it as allowedTools.
    const second = await turn(session, "RUN: echo one > again.txt", { onEvent });

    expect(first.summary.finish, shown(first)).toBe("stop");
    expect(second.summary.finish, shown(second)).toBe("stop");
    expect(fs.readFileSync(path.join(box.cwd, "again.txt"), "utf8")).toBe("one\n");
    expect(requests.map((r) => r.type === "permission_request" && r.input)).toEqual([
      expect.objectContaining({ command: "echo one > one.txt" }),
    ]);
  });
});
