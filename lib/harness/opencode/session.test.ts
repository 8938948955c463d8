import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { listenBuiltinModel, type BuiltinModelServer } from "@/lib/models/builtin";
import { freePort } from "@/lib/net";
import { turnEventSchema, type TurnEvent } from "@/lib/schemas/session-event";

import { installedFile } from "../binaries";
import { writeHarnessFiles } from "../test-files";
import type { HarnessSession, TurnSummary } from "../turn";
import { opencodeBinary } from "./binary";
import { opencodeLaunch } from "./launch";
import { createOpencodeSession } from "./session";
import { socketBridge, type Bridge } from "./test-bridge";

/*
 * The adapter against a real `opencode serve` on the host (no sandbox) and the built-in model on a
 * loopback port. The server's HOME holds the files opencodeLaunch writes in a sandbox, and the
 * adapter reaches it through a Unix socket bridged to its port, as Hangar's reverse bridge does. A
 * recording proxy in front of the built-in model keeps the raw chat requests, so the multi-turn test
 * can see the conversation opencode sends.
 */

const MODEL = "hangar-test-model";
const PASSWORD = "pw";
const PROMPT = "You are a test agent. Marker: P-123.";

const binary = installedFile(opencodeBinary);
if (!binary) console.warn("SKIPPING opencode adapter tests: opencode-linux-* is not installed (npm ci)");

type ChatBody = { messages: { role: string; content: unknown }[]; tools?: unknown[] };

let builtin: BuiltinModelServer;
let proxy: http.Server;
let root: string;
let workspace: string;
let socketPath: string;
let opencode: ChildProcess | null = null;
let opencodeLog = "";
let opencodePort = 0;
const chatBodies: ChatBody[] = [];
const bridges: Bridge[] = [];

/** A bridge the cleanup closes: see ./test-bridge.ts. */
async function bridge(socket: string, port: number): Promise<Bridge> {
  const handle = await socketBridge(socket, port);
  bridges.push(handle);
  return handle;
}

/** Forwards to the built-in model, keeping each chat completions request body. */
function recordingProxy(target: number): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.url?.endsWith("/chat/completions")) chatBodies.push(JSON.parse(body.toString("utf8")));
      const upstream = http.request(
        { host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      // opencode leaving mid-stream (abort) must reach the built-in model too.
      res.on("close", () => upstream.destroy());
      upstream.end(body);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as net.AddressInfo).port }),
    ),
  );
}

/** GET over the socket with Basic auth; null when nothing answers within a second. */
function getOverSocket(socket: string, urlPath: string): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        socketPath: socket,
        path: urlPath,
        auth: `opencode:${PASSWORD}`,
        timeout: 1000,
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(null));
    req.end();
  });
}

async function waitForHealth(socket: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const answer = await getOverSocket(socket, "/global/health");
    if (answer?.status === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`opencode serve did not answer /global/health in ${timeoutMs} ms:\n${opencodeLog}`);
}

async function stopOpencode() {
  const child = opencode;
  opencode = null;
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  if (!binary) return;
  root = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-opencode-"));
  const home = path.join(root, "home");
  workspace = path.join(root, "work");
  fs.mkdirSync(home);
  fs.mkdirSync(workspace);
  socketPath = path.join(root, "opencode.sock");

  builtin = await listenBuiltinModel();
  const recorder = await recordingProxy(builtin.port!);
  proxy = recorder.server;
  const port = await freePort();
  opencodePort = port;
  const launch = opencodeLaunch({
    model: MODEL,
    prompt: PROMPT,
    serverPassword: PASSWORD,
    port,
    modelBase: `http://127.0.0.1:${recorder.port}`,
    modelToken: "tok",
  });
  writeHarnessFiles(launch.files, home, home, "tok");
  // The sandbox's environment: the launch's env plus the per-session model token.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    LANG: "C.UTF-8",
    ...launch.env,
    LITELLM_API_KEY: "tok",
    OPENCODE_SERVER_PASSWORD: PASSWORD,
  };
  const [command, ...args] = launch.argv;
  // Its own process group (detached), so stopping it also stops what its tools started.
  opencode = spawn(command!, args, {
    cwd: workspace,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: env as NodeJS.ProcessEnv,
  });
  opencode.stdout?.on("data", (c) => (opencodeLog += c));
  opencode.stderr?.on("data", (c) => (opencodeLog += c));
  await bridge(socketPath, port);
  await waitForHealth(socketPath, 30_000);
}, 40_000);

afterAll(async () => {
  await stopOpencode();
  await Promise.all(bridges.map((b) => b.close()));
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  proxy?.closeAllConnections();
  await builtin?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  builtin?.model.clear();
  chatBodies.length = 0;
});

const sessions: HarnessSession[] = [];
afterAll(() => Promise.all(sessions.map((s) => s.close())));

async function open(harnessSessionId: string | null = null, socket = socketPath) {
  const session = await createOpencodeSession({
    model: MODEL,
    prompt: PROMPT,
    harnessSessionId,
    socketPath: socket,
    password: PASSWORD,
  });
  sessions.push(session);
  return session;
}

type TurnResult = { events: TurnEvent[]; summary: TurnSummary; ms: number };

async function runTurn(
  session: HarnessSession,
  text: string,
  options: { signal?: AbortSignal; onEvent?: (event: TurnEvent) => void | Promise<void> } = {},
): Promise<TurnResult> {
  const events: TurnEvent[] = [];
  const started = Date.now();
  const summary = await session.turn({
    text,
    signal: options.signal ?? new AbortController().signal,
    emit: async (event) => {
      // Every event must be valid for the session log.
      events.push(turnEventSchema.parse(event));
      await options.onEvent?.(event);
    },
  });
  return { events, summary, ms: Date.now() - started };
}

const ofType = <T extends TurnEvent["type"]>(events: TurnEvent[], type: T) =>
  events.filter((e): e is Extract<TurnEvent, { type: T }> => e.type === type);

/** The chat requests that carried tools: the agent's own calls, not side calls such as titles. */
const mainRequests = () => builtin.model.requests({ api: "chat" }).filter((r) => r.tools.length > 0);

function userTexts(body: ChatBody | undefined): string[] {
  return (body?.messages ?? [])
    .filter((m) => m.role === "user")
    .map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)));
}

describe.skipIf(!binary)(
  "opencode turn adapter (real opencode serve + built-in model)",
  { timeout: 20_000 },
  () => {
    it("maps a plain turn: deltas, one settled text, tokens, the agent prompt in system", async () => {
      const session = await open();
      const { events, summary } = await runTurn(session, "Hello from the adapter test");

      const reply = 'Hangar test model: you said "Hello from the adapter test"';
      const deltas = ofType(events, "assistant_delta");
      const texts = ofType(events, "assistant_text");
      expect(deltas.length, JSON.stringify(events)).toBeGreaterThan(1);
      expect(texts).toEqual([{ type: "assistant_text", part_id: deltas[0]!.part_id, text: reply }]);
      expect(deltas.map((d) => d.text).join("")).toBe(reply);
      expect(events.at(-1)).toEqual(texts[0]);
      // The user's own message is echoed by opencode as a part: it must not come back as the reply.
      expect(JSON.stringify(events)).not.toContain('"text":"Hello from the adapter test"');

      expect(summary).toMatchObject({ finish: "stop", cost_usd: 0 });
      expect(summary.error).toBeUndefined();
      expect(summary.harnessSessionId).toMatch(/^ses_/);
      expect(summary.tokens.input).toBeGreaterThan(0);
      expect(summary.tokens.output).toBeGreaterThan(0);

      const [first] = mainRequests();
      expect(first?.system).toContain("P-123");
      expect(first?.model).toBe(MODEL);
    });

    it("runs a tool: thinking, tool_call then tool_result, the file in the workspace, final text", async () => {
      const session = await open();
      const { events, summary } = await runTurn(
        session,
        "THINK: weighing the options\nRUN: echo made > made.txt",
      );

      expect(fs.readFileSync(path.join(workspace, "made.txt"), "utf8")).toBe("made\n");
      const types = events.map((e) => e.type);
      const [thinking] = ofType(events, "thinking");
      expect(thinking?.text, JSON.stringify(events)).toBe("weighing the options");
      expect(
        ofType(events, "thinking_delta")
          .map((d) => d.text)
          .join(""),
      ).toBe("weighing the options");

      const calls = ofType(events, "tool_call");
      const results = ofType(events, "tool_result");
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ tool: "bash", input: { command: "echo made > made.txt" } });
      expect(results).toEqual([
        {
          type: "tool_result",
          call_id: calls[0]!.call_id,
          tool: "bash",
          output: expect.any(String),
          is_error: false,
        },
      ]);
      expect(results[0]!.output).not.toMatch(/error|fail|denied|not found/i);

      const final = ofType(events, "assistant_text").at(-1);
      expect(final?.text).toContain("Ran `echo made > made.txt`");
      expect(types.indexOf("thinking")).toBeLessThan(types.indexOf("tool_call"));
      expect(types.indexOf("tool_call")).toBeLessThan(types.indexOf("tool_result"));
      expect(types.indexOf("tool_result")).toBeLessThan(events.indexOf(final!));
      expect(summary.finish).toBe("stop");
      // Two model calls (the tool call, then the text), summed.
      expect(mainRequests()).toHaveLength(2);
      expect(summary.tokens.input).toBeGreaterThan(mainRequests().length * 100);
    });

    it("keeps the conversation across turns and resumes it from harnessSessionId", async () => {
      const session = await open();
      const one = await runTurn(session, "Remember the word kiwi");
      const two = await runTurn(session, "Which word was it?");
      expect(two.summary.finish).toBe("stop");
      expect(two.summary.harnessSessionId).toBe(one.summary.harnessSessionId);
      expect(ofType(two.events, "assistant_text").map((e) => e.text)).toEqual([
        'Hangar test model: you said "Which word was it?"',
      ]);
      // The second request carries the first turn: its prompt and opencode's answer to it.
      const second = chatBodies.at(-1);
      expect(userTexts(second).join("\n")).toContain("Remember the word kiwi");
      expect(JSON.stringify(second?.messages.filter((m) => m.role === "assistant"))).toContain(
        'you said \\"Remember the word kiwi\\"',
      );

      // A new adapter (a restarted Hangar) resumes the same opencode session.
      const resumed = await open(one.summary.harnessSessionId);
      const three = await runTurn(resumed, "And now?");
      expect(three.summary).toMatchObject({ finish: "stop", harnessSessionId: one.summary.harnessSessionId });
      expect(userTexts(chatBodies.at(-1))).toEqual(
        expect.arrayContaining([
          expect.stringContaining("Remember the word kiwi"),
          expect.stringContaining("Which word was it?"),
          expect.stringContaining("And now?"),
        ]),
      );

      // An id the server does not know gets a fresh session.
      const fresh = await open("ses_unknown0000000000000000");
      const four = await runTurn(fresh, "Fresh start");
      expect(four.summary.finish).toBe("stop");
      expect(four.summary.harnessSessionId).toMatch(/^ses_/);
      expect(four.summary.harnessSessionId).not.toBe("ses_unknown0000000000000000");
      expect(userTexts(chatBodies.at(-1)).join("\n")).not.toContain("kiwi");
    });

    it("aborts a slow reply after its first delta", async () => {
      const session = await open();
      const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
      const controller = new AbortController();
      let abortedAt = 0;
      const { events, summary } = await runTurn(session, `SLOW: 300\nREPLY: ${words}`, {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === "assistant_delta" && !abortedAt) {
            abortedAt = Date.now();
            controller.abort();
          }
        },
      });
      const tookMs = Date.now() - abortedAt;

      expect(abortedAt, JSON.stringify(events)).toBeGreaterThan(0);
      expect(summary.finish).toBe("aborted");
      expect(tookMs).toBeLessThan(3000);
      const streamed = ofType(events, "assistant_delta")
        .map((d) => d.text)
        .join("");
      expect(streamed.length).toBeLessThan(words.length);
      // The settled part (if any) is what streamed, not the whole reply.
      for (const text of ofType(events, "assistant_text")) expect(text.text).toBe(streamed);
      // opencode really stopped the model call.
      await expect.poll(() => mainRequests().at(-1)?.aborted, { timeout: 2000 }).toBe(true);

      // The session takes the next turn normally.
      const next = await runTurn(session, "REPLY: back again");
      expect(next.summary.finish).toBe("stop");
      expect(ofType(next.events, "assistant_text").map((e) => e.text)).toEqual(["back again"]);
    });

    it("asks for permission when the session's rules say ask, and runs the tool once allowed", async () => {
      // A session created with an `ask` rule for bash (our config allows everything), then resumed.
      const created = await new Promise<{ id: string }>((resolve, reject) => {
        const req = http.request(
          {
            socketPath,
            path: "/session",
            method: "POST",
            auth: `opencode:${PASSWORD}`,
            headers: { "content-type": "application/json" },
          },
          (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve(JSON.parse(body)));
          },
        );
        req.on("error", reject);
        req.end(
          JSON.stringify({ title: "ask", permission: [{ permission: "bash", pattern: "*", action: "ask" }] }),
        );
      });
      const session = await open(created.id);
      const { events, summary } = await runTurn(session, "RUN: echo allowed > allowed.txt", {
        onEvent: async (event) => {
          if (event.type === "permission_request")
            await session.answerPermission(event.permission_id, "once");
        },
      });

      const [request] = ofType(events, "permission_request");
      expect(request, JSON.stringify(events)).toMatchObject({
        tool: "bash",
        input: { command: "echo allowed > allowed.txt" },
        title: "echo allowed > allowed.txt",
      });
      expect(ofType(events, "permission_reply")).toEqual([
        { type: "permission_reply", permission_id: request!.permission_id, reply: "once" },
      ]);
      expect(ofType(events, "tool_result")[0]).toMatchObject({ tool: "bash", is_error: false });
      expect(fs.readFileSync(path.join(workspace, "allowed.txt"), "utf8")).toBe("allowed\n");
      expect(summary).toMatchObject({ finish: "stop", harnessSessionId: created.id });
    });

    it("reconnects when the event stream drops mid-turn, and replays a turn that ended meanwhile", async () => {
      const link = await bridge(path.join(root, "flaky.sock"), opencodePort);
      const session = await open(null, path.join(root, "flaky.sock"));
      const reply = Array.from({ length: 12 }, (_, i) => `part${i}`).join(" ");

      // Dropped after the first delta: the adapter reconnects and follows the rest of the turn.
      let dropped = false;
      const live = await runTurn(session, `SLOW: 300\nREPLY: ${reply}`, {
        onEvent: (event) => {
          if (event.type === "assistant_delta" && !dropped) {
            dropped = true;
            link.dropConnections();
          }
        },
      });
      expect(dropped).toBe(true);
      expect(live.summary.finish, JSON.stringify(live)).toBe("stop");
      expect(ofType(live.events, "assistant_text").map((e) => e.text)).toEqual([reply]);

      // Dropped, and the turn ends before the adapter is back: the settled text comes from history.
      dropped = false;
      const late = await runTurn(session, `SLOW: 200\nREPLY: ${reply} again`, {
        onEvent: async (event) => {
          if (event.type !== "assistant_delta" || dropped) return;
          dropped = true;
          link.dropConnections();
          // emit is awaited, so the adapter sees the drop only after opencode went idle.
          await expect
            .poll(async () => (await getOverSocket(socketPath, "/session/status"))?.body, { timeout: 5000 })
            .toBe("{}");
        },
      });
      expect(late.summary.finish, JSON.stringify(late)).toBe("stop");
      expect(ofType(late.events, "assistant_text").map((e) => e.text)).toEqual([`${reply} again`]);
      expect(late.summary.tokens.output).toBeGreaterThan(0);
    });

    it("reports a server that does not answer", async () => {
      // No server behind the socket: the factory rejects.
      await expect(open(null, path.join(root, "missing.sock"))).rejects.toThrow(
        /opencode server in the sandbox is not answering: connect ENOENT/,
      );

      // The server goes away between turns: the turn resolves with an error.
      const second = path.join(root, "second.sock");
      const link = await bridge(second, opencodePort);
      const session = await open(null, second);
      await link.close();
      const { summary, ms } = await runTurn(session, "Anyone there?");
      expect(summary.finish).toBe("error");
      expect(summary.error).toMatch(/^opencode server in the sandbox is not answering: /);
      expect(summary.harnessSessionId).toMatch(/^ses_/);
      expect(ms).toBeLessThan(2000);
    });
  },
);
