/*
 * The warm pool (lib/sessions/pool.ts) with real sandboxes and real harnesses through the built-in
 * model: a session claims a pre-booted sandbox and binds it late, the agent's turn sees its own
 * files, env and prompt, and no session ever sees another's secrets, across 20 claims.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { b64, callServer } from "../support/api";
import { startServer, type TestServer } from "../support/server";

const AGENTS = "/api/v1/managed_agents/agents";
const SESSIONS = "/api/v1/managed_agents/sessions";

/** The ids of warm sandboxes the server logged as ready, in order. */
function warmReady(server: TestServer, harnessId: string): string[] {
  return fs
    .readFileSync(server.logFile, "utf8")
    .split("\n")
    .filter((line) => line.includes('"warm sandbox ready"') && line.includes(`"harnessId":"${harnessId}"`))
    .map((line) => (JSON.parse(line) as { sessionId: string }).sessionId);
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 90_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function file(name: string, sandboxPath: string, text: string) {
  return { name, sandbox_path: sandboxPath, content: b64(text), size: Buffer.byteLength(text) };
}

/** A session's sandbox folder as the host holds it (data dir/sessions/<id>). */
const sandboxDir = (server: TestServer, id: string) => path.join(server.dataDir, "sessions", id);

async function readySession(server: TestServer, agentId: string, body: Record<string, unknown> = {}) {
  const created = await callServer(server, "POST", `${AGENTS}/${agentId}/session`, body);
  expect(created.status, created.text).toBe(201);
  const session = await until("the session to settle", async () => {
    const s = await callServer(server, "GET", `${SESSIONS}/${created.body.id}`);
    return s.body.status === "creating" ? undefined : s.body;
  });
  expect(session.status, session.failure_reason).toBe("ready");
  return session;
}

async function turn(server: TestServer, sessionId: string, text: string): Promise<string> {
  const res = await callServer(server, "POST", `${SESSIONS}/${sessionId}/message`, { text });
  expect(res.status, res.text).toBe(200);
  return JSON.stringify(res.body);
}

describe("a warm opencode sandbox", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { HANGAR_POOL_OPENCODE: "1" } });
  }, 120_000);
  afterAll(async () => server?.stop());

  it("is claimed by a new session and bound late: files, env, prompt and token arrive at claim", async () => {
    const warmId = await until("a warm opencode sandbox", () => warmReady(server, "opencode")[0]);
    // Before the claim it holds nothing of any agent: an empty workspace and no model endpoint.
    const dir = sandboxDir(server, warmId);
    expect(fs.readdirSync(path.join(dir, "workspace"))).toEqual([]);
    expect(fs.readdirSync(path.join(dir, "run", "listen"))).toEqual([]);

    const agent = await callServer(server, "POST", AGENTS, {
      model: "m/pool",
      harness_id: "opencode",
      prompt: "PROMPT-MARKER-7",
      env_vars: { AGENT_VALUE: "agent-value-1" },
      sandbox_files: [file("notes.txt", "~/workspace/notes.txt", "file-content-1\n")],
    });
    expect(agent.status, agent.text).toBe(201);
    const session = await readySession(server, agent.body.id, {
      env_vars: { SESSION_VALUE: "sess-value-1" },
    });
    expect(session.id).toBe(warmId);
    expect(session.spawn_mode).toBe("warm");
    expect(session.timings.claiming_sandbox).toBeGreaterThanOrEqual(0);

    const out = await turn(
      server,
      session.id,
      // (Inside the workspace: opencode asks before a command touches a path outside it.)
      "RUN: echo A=$AGENT_VALUE S=$SESSION_VALUE; cat notes.txt",
    );
    expect(out).toContain("A=agent-value-1 S=sess-value-1");
    expect(out).toContain("file-content-1");
    const prompt = path.join(dir, "home", ".config", "opencode", "AGENTS.md");
    expect(fs.readFileSync(prompt, "utf8")).toContain("PROMPT-MARKER-7");
    // The host-side listeners exist now, for this session only.
    expect(fs.readdirSync(path.join(dir, "run", "listen")).sort()).toEqual(["egress.sock", "model.sock"]);

    // The next session, right behind it, takes the sandbox the pool started booting at the claim:
    // it binds once that one is warm, with no second boot competing for the CPU.
    const next = await readySession(server, agent.body.id);
    expect(next).toMatchObject({ spawn_mode: "warm", id: warmReady(server, "opencode")[1] });
  }, 180_000);
});

describe("warm claims keep sessions apart", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { HANGAR_POOL_CLAUDE_AGENT_SDK: "2" } });
  }, 120_000);
  afterAll(async () => server?.stop());

  it("no secret of one session reaches another across 20 claims, and a claimed sandbox is never reused", async () => {
    const rounds = 20;
    const canaries = Array.from({ length: rounds }, (_, i) => `canary-${i}-${crypto.randomUUID()}`);
    const seen: string[] = [];
    for (let i = 0; i < rounds; i++) {
      // Each claim takes a sandbox that was warm before it: wait for one more than was claimed.
      await until("a warm sandbox", () =>
        warmReady(server, "claude-agent-sdk").length > i ? true : undefined,
      );
      const agent = await callServer(server, "POST", AGENTS, {
        model: "m/pool",
        harness_id: "claude-agent-sdk",
        env_vars: { AGENT_SECRET: `${canaries[i]}-agent` },
        sandbox_files: [file("s.txt", "~/s.txt", `${canaries[i]}-file\n`)],
      });
      expect(agent.status, agent.text).toBe(201);
      const session = await readySession(server, agent.body.id, {
        env_vars: { SESSION_SECRET: `${canaries[i]}-session` },
      });
      expect(session.spawn_mode).toBe("warm");
      expect(seen).not.toContain(session.id);
      seen.push(session.id);
      // As an attacker inside would look: every process's environment, home, tmp, the private
      // folder and the workspace, for anything shaped like any session's canary.
      const out = await turn(
        server,
        session.id,
        "RUN: (cat /proc/[0-9]*/environ; grep -rhao 'canary-[0-9]*-[0-9a-z-]*' ~ /tmp ${HANGAR_PRIVATE:-/run/hangar/private} .) 2>/dev/null | tr '\\0' '\\n' | grep -o 'canary-[0-9]*-[0-9a-z-]*' | sort -u",
      );
      const found = new Set(out.match(/canary-\d+-[0-9a-f-]{36}/g) ?? []);
      expect([...found]).toEqual([canaries[i]]);
      expect(out).toContain(`${canaries[i]}-agent`);
      expect(out).toContain(`${canaries[i]}-session`);
      expect(out).toContain(`${canaries[i]}-file`);
    }
    // Nothing of the per-session values sits in what the host keeps of a sandbox (run/: status, log,
    // records) in plaintext, nor in the server's log. (The sandbox's own home holds what the agent
    // wrote there: this test's command printed them into its transcript.)
    for (const id of seen) {
      const grep = spawnSync("grep", ["-rlaF", "-e", "-session", path.join(sandboxDir(server, id), "run")], {
        encoding: "utf8",
      });
      expect(
        grep.stdout
          .split("\n")
          .filter((hit) => canaries.some((c) => hit && fs.readFileSync(hit, "utf8").includes(c))),
      ).toEqual([]);
    }
    const log = fs.readFileSync(server.logFile, "utf8");
    for (const canary of canaries) expect(log).not.toContain(canary);
  }, 600_000);

  it("a stopped server takes its warm sandboxes with it, and a new one boots fresh ones", async () => {
    const before = await until("a warm sandbox", () => {
      const ids = warmReady(server, "claude-agent-sdk");
      return ids.length > 20 ? ids : undefined;
    });
    const unclaimed = before.filter((id) => fs.existsSync(path.join(sandboxDir(server, id), "run", "warm")));
    expect(unclaimed.length).toBeGreaterThan(0);
    await server.stop();
    for (const id of unclaimed) expect(fs.existsSync(sandboxDir(server, id))).toBe(false);
  }, 120_000);
});

// opencode: the Agent SDK's CLI refuses to skip permissions as root, which the process driver's
// sandboxes are when Hangar runs as root (as here).
describe("a warm sandbox on the process driver (no isolation)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      env: { HANGAR_SANDBOX_DRIVER: "process", HANGAR_POOL_OPENCODE: "1" },
    });
  }, 120_000);
  afterAll(async () => server?.stop());

  it("binds late through the same FIFO, in its own private folder and on its own ports", async () => {
    const warmId = await until("a warm sandbox", () => warmReady(server, "opencode")[0]);
    const agent = await callServer(server, "POST", AGENTS, {
      model: "m/pool",
      harness_id: "opencode",
      env_vars: { AGENT_VALUE: "agent-value-2" },
    });
    expect(agent.status, agent.text).toBe(201);
    const session = await readySession(server, agent.body.id, {
      env_vars: { SESSION_VALUE: "sess-value-2" },
    });
    expect(session).toMatchObject({ id: warmId, spawn_mode: "warm", sandbox: { isolation: "none" } });
    const out = await turn(server, session.id, "RUN: echo A=$AGENT_VALUE S=$SESSION_VALUE");
    expect(out).toContain("A=agent-value-2 S=sess-value-2");

    // Two sessions at once: the first takes the warm sandbox, the second the one the pool began
    // booting at that claim, before its ports were chosen (here, free host ports): it binds on the
    // ports that sandbox got, not on the ones it had when claimed.
    await until("another warm sandbox", () => warmReady(server, "opencode")[1]);
    const both = await Promise.all([
      readySession(server, agent.body.id),
      readySession(server, agent.body.id),
    ]);
    expect(both.map((s) => s.spawn_mode)).toEqual(["warm", "warm"]);
    for (const s of both) expect(await turn(server, s.id, "REPLY: bound")).toContain("bound");
  }, 240_000);
});

describe("the boot queue (HANGAR_BOOT_CONCURRENCY)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { HANGAR_BOOT_CONCURRENCY: "1" } });
  }, 120_000);
  afterAll(async () => server?.stop());

  type LogEvent = { type: string; at: string; data: { phase?: string; detail?: string; status?: string } };
  const eventsOf = async (id: string): Promise<LogEvent[]> =>
    (await callServer(server, "GET", `${SESSIONS}/${id}/log?limit=1000`)).body.data;

  it("boots one sandbox at a time here, tells a queued session its place, and never boots a stopped one", async () => {
    const agent = await callServer(server, "POST", AGENTS, {
      model: "m/queue",
      harness_id: "claude-agent-sdk",
    });
    expect(agent.status, agent.text).toBe(201);
    const post = () => callServer(server, "POST", `${AGENTS}/${agent.body.id}/session`, {});
    const first = await post();
    const second = await post();
    const third = await post();
    for (const res of [first, second, third]) expect(res.status, res.text).toBe(201);
    const [a, b, c]: [string, string, string] = [first.body.id, second.body.id, third.body.id];

    // The third waits behind the first's boot and the second session; stopped there, it never boots.
    await until(
      "the third session's place in the queue",
      async () =>
        (await eventsOf(c)).some((e) => e.data.detail === "queued: 1 sandboxes booting, 1 sessions ahead") ||
        undefined,
    );
    expect((await callServer(server, "DELETE", `${SESSIONS}/${c}`)).status).toBeLessThan(300);

    const ready = await Promise.all([a, b].map((id) => readySessionById(id)));
    expect(ready.map((s) => s.status)).toEqual(["ready", "ready"]);
    expect(ready[1].timings.queued).toBeGreaterThan(0);
    const [eventsA, eventsB] = await Promise.all([eventsOf(a), eventsOf(b)]);
    expect(eventsB.some((e) => e.data.detail?.startsWith("queued: 1 sandboxes booting"))).toBe(true);
    // One at a time: the second's sandbox started only once the first was ready.
    const at = (events: LogEvent[], pick: (e: LogEvent) => boolean) => Date.parse(events.find(pick)!.at);
    expect(at(eventsB, (e) => e.data.phase === "sandbox_started")).toBeGreaterThanOrEqual(
      at(eventsA, (e) => e.type === "status" && e.data.status === "ready"),
    );

    const stopped = (await callServer(server, "GET", `${SESSIONS}/${c}`)).body;
    expect(stopped.status).toBe("dead");
    await new Promise((r) => setTimeout(r, 1000));
    expect((await eventsOf(c)).some((e) => e.data.phase === "sandbox_started")).toBe(false);
    expect(fs.existsSync(path.join(sandboxDir(server, c), "run", "status.jsonl"))).toBe(false);
  }, 180_000);

  async function readySessionById(id: string) {
    return until("the session to settle", async () => {
      const s = await callServer(server, "GET", `${SESSIONS}/${id}`);
      return s.body.status === "creating" ? undefined : s.body;
    });
  }
});
