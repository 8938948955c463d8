import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { describe, expect, inject, it } from "vitest";

import { AGENTS, api, createAgent } from "../support/api";
import { openSse, type Frame } from "../support/sse";

/*
 * Messaging through real harnesses: opencode serve and the Claude Agent SDK's CLI run inside their
 * sandboxes and talk to Hangar's built-in test model (no LLM is reachable here; its replies are
 * scripted by the message text: RUN:, REPLY:, SLOW:, see lib/models/builtin/README.md).
 */

const SESSIONS = "/api/v1/managed_agents/sessions";
type Event = { seq: number; type: string; data: Record<string, any>; at: string };

async function readySession(fields: Record<string, unknown>, body: Record<string, unknown> = {}) {
  const agent = await createAgent(fields);
  const created = await api("POST", `${AGENTS}/${agent.id}/session`, { body });
  expect(created.status).toBe(201);
  const deadline = Date.now() + 90_000;
  for (;;) {
    const res = await api("GET", `${SESSIONS}/${created.body.id}`);
    if (res.body.status === "ready") return { agent, session: res.body };
    if (res.body.status === "failed" || Date.now() > deadline) throw new Error(JSON.stringify(res.body));
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function log(id: string): Promise<Event[]> {
  return (await api("GET", `${SESSIONS}/${id}/log?limit=1000`)).body.data;
}

async function waitForEvent(id: string, match: (e: Event) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await log(id)).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching event in ${JSON.stringify(await log(id))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const workspace = (id: string) => path.join(inject("dataDir"), "sessions", id, "workspace");

async function gatewayRequests(sessionId: string) {
  return (await api("GET", `/api/v1/model_gateway/requests?session_id=${sessionId}`)).body.data as {
    system: string;
    userText: string;
    tools: string[];
  }[];
}

describe.each(["opencode", "claude-agent-sdk"])("messaging through %s", (harness) => {
  it("a plain turn: the reply, the prompt in effect from the first turn, and the thread", async () => {
    const { session } = await readySession({
      harness_id: harness,
      prompt: "You are careful. Marker PRM-42.",
    });
    const res = await api("POST", `${SESSIONS}/${session.id}/message`, { body: { text: "hello there" } });
    expect(res.status).toBe(200);
    expect(res.body.info).toMatchObject({ role: "assistant", finish: "stop" });
    expect(res.body.info.tokens.output).toBeGreaterThan(0);
    const text = res.body.parts
      .filter((p: { type: string }) => p.type === "text")
      .map((p: { text: string }) => p.text);
    expect(text.join("")).toBe('Hangar test model: you said "hello there"');
    const requests = await gatewayRequests(session.id);
    const main = requests.filter((r) => r.tools.length > 0);
    expect(main[0]?.system).toContain("Marker PRM-42");

    const thread = await api("GET", `${SESSIONS}/${session.id}/messages`);
    expect(thread.body.map((m: { info: { role: string } }) => m.info.role)).toEqual(["user", "assistant"]);
    expect(thread.body[1].info.id).toBe(res.body.info.id);
    const types = (await log(session.id)).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(["user_message", "turn_started", "assistant_text", "turn_complete"]),
    );
    await api("DELETE", `${SESSIONS}/${session.id}`);
    // The thread outlives the sandbox.
    expect((await api("GET", `${SESSIONS}/${session.id}/messages`)).body).toHaveLength(2);
  }, 120_000);

  it("a tool turn creates a file in the workspace through the harness's own shell tool", async () => {
    const { session } = await readySession({ harness_id: harness });
    const marker = `made-by-${harness}`;
    const res = await api("POST", `${SESSIONS}/${session.id}/message`, {
      body: { text: `RUN: echo ${marker} > made.txt && cat made.txt` },
    });
    expect(res.status).toBe(200);
    expect(fs.readFileSync(path.join(workspace(session.id), "made.txt"), "utf8").trim()).toBe(marker);
    const tool = res.body.parts.find((p: { type: string }) => p.type === "tool");
    expect(tool.state.status).toBe("completed");
    expect(tool.state.output).toContain(marker);
    const types = (await log(session.id)).map((e) => e.type);
    expect(types.indexOf("tool_call")).toBeGreaterThan(-1);
    expect(types.indexOf("tool_result")).toBeGreaterThan(types.indexOf("tool_call"));
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);

  it("a denied host: 403 in the tool result and an egress_denied event", async () => {
    const { session } = await readySession({ harness_id: harness, deny_out: ["denied.test"] });
    const res = await api("POST", `${SESSIONS}/${session.id}/message`, {
      body: { text: "RUN: curl -sS -o /dev/null https://denied.test/ 2>&1; echo curl-exit=$?" },
    });
    expect(res.status).toBe(200);
    const tool = res.body.parts.find((p: { type: string }) => p.type === "tool");
    expect(tool.state.output ?? tool.state.error).toMatch(/403/);
    const denied = await waitForEvent(session.id, (e) => e.type === "egress_denied");
    expect(denied.data.host).toBe("denied.test");
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);
});

describe("streams", () => {
  it("message_stream sends and streams one turn: consecutive ids, deltas, then the end", async () => {
    const { session } = await readySession({ harness_id: "claude-agent-sdk" });
    const stream = await openSse(`${SESSIONS}/${session.id}/message_stream`, {
      method: "POST",
      body: { text: "REPLY: one two three four five six seven eight" },
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const frames: Frame[] = [];
    for await (const frame of stream.frames) frames.push(frame);
    const ids = frames.map((f) => f.id!);
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
    expect(frames[0]?.event).toBe("user_message");
    expect(frames.at(-1)?.event).toBe("turn_complete");
    const deltas = frames
      .filter((f) => f.event === "assistant_delta")
      .map((f) => JSON.parse(f.data).data.text);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe("one two three four five six seven eight");
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);

  it("a client that drops mid-turn and resumes with Last-Event-ID gets every event exactly once", async () => {
    const { session } = await readySession({ harness_id: "claude-agent-sdk" });
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ");
    const first = await openSse(`${SESSIONS}/${session.id}/events`);
    const sent = api("POST", `${SESSIONS}/${session.id}/message`, {
      body: { text: `SLOW: 60\nREPLY: ${words}` },
    });
    const seen: Frame[] = [];
    for await (const frame of first.frames) {
      seen.push(frame);
      if (frame.event === "assistant_delta") break; // mid-turn
    }
    first.close();
    await new Promise((r) => setTimeout(r, 300)); // events keep coming while the client is away
    const second = await openSse(`${SESSIONS}/${session.id}/events`, { lastEventId: seen.at(-1)!.id! });
    for await (const frame of second.frames) {
      seen.push(frame);
      if (frame.event === "turn_complete") break;
    }
    second.close();
    expect((await sent).status).toBe(200);
    const all = await log(session.id);
    const upTo = all.filter((e) => e.seq <= seen.at(-1)!.id!);
    expect(seen.map((f) => f.id)).toEqual(upTo.map((e) => e.seq));
    expect(seen.map((f) => JSON.parse(f.data).type)).toEqual(upTo.map((e) => e.type));
    // ?after= works the same for clients that cannot set headers.
    const third = await openSse(`${SESSIONS}/${session.id}/stream?after=${upTo.at(-3)!.seq}`);
    const tail: number[] = [];
    for await (const frame of third.frames) tail.push(frame.id!);
    expect(tail).toEqual(upTo.slice(-2).map((e) => e.seq));
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);
});

describe("turn control", () => {
  it("abort ends a running turn as aborted; a second turn meanwhile is refused", async () => {
    const { session } = await readySession({ harness_id: "claude-agent-sdk" });
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    const sent = api("POST", `${SESSIONS}/${session.id}/message`, {
      body: { text: `SLOW: 100\nREPLY: ${words}` },
    });
    await waitForEvent(session.id, (e) => e.type === "assistant_delta");
    const second = await api("POST", `${SESSIONS}/${session.id}/message`, { body: { text: "hi" } });
    expect(second.status).toBe(409);
    expect((await api("POST", `${SESSIONS}/${session.id}/abort`)).body).toEqual({ ok: true, aborted: true });
    const res = await sent;
    expect(res.status).toBe(200);
    expect(res.body.info.finish).toBe("aborted");
    expect((await api("POST", `${SESSIONS}/${session.id}/abort`)).body).toEqual({ ok: true, aborted: false });
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);

  it("initial_prompt is answered once the session is ready", async () => {
    const { session } = await readySession(
      { harness_id: "claude-agent-sdk" },
      { initial_prompt: "REPLY: first words" },
    );
    const done = await waitForEvent(session.id, (e) => e.type === "turn_complete");
    expect(done.data.finish).toBe("stop");
    const thread = (await api("GET", `${SESSIONS}/${session.id}/messages`)).body;
    expect(thread).toHaveLength(2);
    expect(thread[1].parts.map((p: { text?: string }) => p.text).join("")).toBe("first words");
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);

  it("restart replays the conversation into the new harness", async () => {
    const { session } = await readySession({ harness_id: "claude-agent-sdk" });
    await api("POST", `${SESSIONS}/${session.id}/message`, { body: { text: "REPLY: remember PINEAPPLE-7" } });
    await api("POST", `${SESSIONS}/${session.id}/restart`, { body: {} });
    for (;;) {
      const res = await api("GET", `${SESSIONS}/${session.id}`);
      if (res.body.status === "ready") break;
      if (res.body.status === "failed") throw new Error(JSON.stringify(res.body));
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await api("POST", `${SESSIONS}/${session.id}/message`, { body: { text: "what did I say?" } });
    expect(res.status).toBe(200);
    const last = (await gatewayRequests(session.id)).filter((r) => r.tools.length > 0).at(-1)!;
    // The replayed conversation reaches the model as context of the new user turn.
    expect(last.system).toContain("<previous_conversation>");
    expect(last.system).toContain("PINEAPPLE-7");
    expect(last.userText).toBe("what did I say?");
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 180_000);

  it("refuses messages to TUI harnesses, to unknown sessions and with no text", async () => {
    const { session } = await readySession({ harness_id: "codex" });
    const tui = await api("POST", `${SESSIONS}/${session.id}/message`, { body: { text: "hi" } });
    expect(tui.status).toBe(409);
    expect(tui.body.error.message).toMatch(/terminal/);
    expect((await api("POST", `${SESSIONS}/sess_none/message`, { body: { text: "hi" } })).status).toBe(404);
    const empty = await api("POST", `${SESSIONS}/${session.id}/message`, { body: { text: "  " } });
    expect(empty.status).toBe(400);
    await api("DELETE", `${SESSIONS}/${session.id}`);
    const gone = await api("POST", `${SESSIONS}/${session.id}/message`, { body: { text: "hi" } });
    expect(gone.status).toBe(409);
  }, 120_000);
});

describe("several Hangar processes on one database", () => {
  it.runIf(inject("dbChoice") === "postgres")(
    "an event appended by another process reaches this server's live stream (LISTEN/NOTIFY)",
    async () => {
      const { session } = await readySession({ harness_id: "claude-agent-sdk" });
      const stream = await openSse(
        `${SESSIONS}/${session.id}/events?after=${(await log(session.id)).at(-1)!.seq}`,
      );
      const other = spawnSync(
        process.execPath,
        [
          "--import",
          "tsx",
          "-e",
          `const { initRuntime } = await import("./lib/runtime.ts");
           const { appendEvent } = await import("./lib/sessions/events.ts");
           const rt = await initRuntime();
           await appendEvent(${JSON.stringify(session.id)}, "stalled", { from: "another process" });
           await rt.close();`,
        ],
        {
          env: {
            NODE_ENV: "production",
            PATH: process.env.PATH,
            DATABASE_URL: inject("databaseUrl")!,
            HANGAR_DATA_DIR: fs.mkdtempSync("/tmp/hangar-other-"),
            MASTER_KEY: inject("masterKey"),
            LOG_LEVEL: "error",
          },
          encoding: "utf8",
          timeout: 60_000,
        },
      );
      expect(other.status, other.stderr).toBe(0);
      const next = await stream.frames.next();
      stream.close();
      expect(next.value?.event).toBe("stalled");
      expect(JSON.parse(next.value!.data).data.from).toBe("another process");
      await api("DELETE", `${SESSIONS}/${session.id}`);
    },
    120_000,
  );
});

describe("the opencode API proxy", () => {
  it("the official @opencode-ai/sdk client pointed at Hangar creates a session and a message", async () => {
    const { createOpencodeClient } = await import("@opencode-ai/sdk");
    const { session } = await readySession({ harness_id: "opencode" });
    const client = createOpencodeClient({
      baseUrl: `${inject("baseUrl")}${SESSIONS}/${session.id}/opencode`,
      headers: { authorization: `Bearer ${inject("masterKey")}` },
    });
    const created = await client.session.create({ body: { title: "through Hangar" } });
    expect(created.data?.id).toMatch(/^ses_/);
    const reply = await client.session.prompt({
      path: { id: created.data!.id },
      body: {
        parts: [{ type: "text", text: "REPLY: proxied fine" }],
        model: { providerID: "hangar", modelID: session.model },
      },
    });
    const text = (reply.data?.parts ?? [])
      .filter((p) => p.type === "text")
      .map((p) => ("text" in p ? p.text : ""));
    expect(text.join("")).toBe("proxied fine");
    // Hangar's credentials are required; the harness password never leaves Hangar.
    const anonymous = await fetch(`${inject("baseUrl")}${SESSIONS}/${session.id}/opencode/session`);
    expect(anonymous.status).toBe(401);
    const other = await readySession({ harness_id: "claude-agent-sdk" });
    expect((await api("GET", `${SESSIONS}/${other.session.id}/opencode/session`)).status).toBe(404);
    await api("DELETE", `${SESSIONS}/${session.id}`);
    await api("DELETE", `${SESSIONS}/${other.session.id}`);
    expect((await api("GET", `${SESSIONS}/${session.id}/opencode/session`)).status).toBe(410);
  }, 120_000);
});
