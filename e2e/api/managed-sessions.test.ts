import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import Anthropic from "@anthropic-ai/sdk";
import postgres from "postgres";
import { describe, expect, inject, it } from "vitest";

import { api, unique } from "../support/api";

/*
 * Sessions and events of the Managed Agents API facade, driven by Anthropic's official SDK against
 * real sandboxes running the Claude Agent SDK harness, whose model is Hangar's built-in test model
 * (its replies are scripted by the message: REPLY:, RUN:, SLOW:; lib/models/builtin/README.md).
 */

type StreamEvent = Anthropic.Beta.Sessions.BetaManagedAgentsStreamSessionEvents;
type Stream = AsyncIterable<StreamEvent> & { controller: AbortController };

const sdk = () =>
  new Anthropic({ baseURL: inject("baseUrl"), apiKey: inject("masterKey"), maxRetries: 0 }).beta;

const workspaceFile = (sessionId: string, name: string) =>
  path.join(inject("dataDir"), "sessions", sessionId, "workspace", name);

/** Polls the session until its sandbox is up and no turn runs. */
async function waitIdle(sessionId: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const session = await sdk().sessions.retrieve(sessionId);
    if (session.status === "idle") return session;
    if (session.status === "terminated" || Date.now() > deadline) throw new Error(JSON.stringify(session));
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function idleSession(tools?: Anthropic.Beta.AgentCreateParams["tools"], vaultIds: string[] = []) {
  const environment = await sdk().environments.create({
    name: unique("env"),
    config: { type: "cloud", networking: { type: "limited", allowed_hosts: [] } },
  });
  const agent = await sdk().agents.create({
    name: unique("agent"),
    model: "claude-sonnet-4-6",
    system: "Marker SDK-77.",
    ...(tools && { tools }),
  });
  const created = await sdk().sessions.create({
    agent: agent.id,
    environment_id: environment.id,
    title: "from the SDK",
    metadata: { ticket: "T-1" },
    vault_ids: vaultIds,
  });
  expect(created).toMatchObject({ type: "session", status: "rescheduling", environment_id: environment.id });
  return { agent, environment, session: await waitIdle(created.id) };
}

/** Every event Hangar streams has an id (the SDK's union also has id-less delta frames). */
const idOf = (e: StreamEvent): string => ("id" in e ? e.id : "");

const idleAgain = (e: StreamEvent): boolean => e.type === "session.status_idle";

/** One stream read in several parts (an SDK stream can be iterated once): each part ends where `stop` says. */
function reader(stream: Stream) {
  const events = stream[Symbol.asyncIterator]();
  return async (stop: (e: StreamEvent) => boolean = idleAgain) => {
    const seen: StreamEvent[] = [];
    for (;;) {
      const next = await events.next();
      if (next.done) throw new Error(`the stream ended after ${JSON.stringify(seen.map((e) => e.type))}`);
      seen.push(next.value);
      if (stop(next.value)) return seen;
    }
  };
}

/** Reads the stream until an event `stop` accepts (by default: the agent is idle again). */
async function readUntil(stream: Stream, stop: (e: StreamEvent) => boolean = idleAgain) {
  const seen: StreamEvent[] = [];
  for await (const event of stream) {
    seen.push(event);
    if (stop(event)) break;
  }
  return seen;
}

const say = (text: string) => ({
  events: [{ type: "user.message" as const, content: [{ type: "text" as const, text }] }],
});

async function allEvents(sessionId: string, params: Anthropic.Beta.Sessions.EventListParams = {}) {
  const out: Anthropic.Beta.Sessions.BetaManagedAgentsSessionEvent[] = [];
  for await (const event of sdk().sessions.events.list(sessionId, params)) out.push(event);
  return out;
}

describe("Managed Agents API: sessions and events through the SDK", () => {
  it("streams a text turn and a tool turn, pages the events, and resumes a dropped stream", async () => {
    const { session, agent } = await idleSession();
    const stream = (await sdk().sessions.events.stream(session.id)) as unknown as Stream;
    const sent = await sdk().sessions.events.send(session.id, say("REPLY: hello from Hangar"));
    expect(sent.data?.[0]).toMatchObject({ type: "user.message", id: expect.stringMatching(/^sevt_/) });
    const turn = await readUntil(stream);
    const types = turn.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        "user.message",
        "session.status_running",
        "span.model_request_start",
        "agent.message",
        "span.model_request_end",
        "session.status_idle",
      ]),
    );
    expect(types.indexOf("user.message")).toBeLessThan(types.indexOf("agent.message"));
    const message = turn.find(
      (e) => e.type === "agent.message",
    ) as Anthropic.Beta.Sessions.BetaManagedAgentsAgentMessageEvent;
    expect(message.content).toEqual([{ type: "text", text: "hello from Hangar" }]);
    const end = turn.find(
      (e) => e.type === "span.model_request_end",
    ) as Anthropic.Beta.Sessions.BetaManagedAgentsSpanModelRequestEndEvent;
    expect(end.model_usage.output_tokens).toBeGreaterThan(0);
    for (const event of turn)
      expect(event).toMatchObject({ id: expect.any(String), processed_at: expect.any(String) });
    expect(turn.at(-1)).toMatchObject({ stop_reason: { type: "end_turn" } });

    // A tool turn: the command runs in the sandbox and its file is in the workspace.
    const toolStream = (await sdk().sessions.events.stream(session.id)) as unknown as Stream;
    await sdk().sessions.events.send(session.id, say("RUN: echo made-by-sdk > sdk.txt && cat sdk.txt"));
    const toolTurn = await readUntil(toolStream);
    const use = toolTurn.find(
      (e) => e.type === "agent.tool_use",
    ) as Anthropic.Beta.Sessions.BetaManagedAgentsAgentToolUseEvent;
    expect(use).toMatchObject({ name: "bash", input: { command: expect.stringContaining("sdk.txt") } });
    const result = toolTurn.find(
      (e) => e.type === "agent.tool_result",
    ) as Anthropic.Beta.Sessions.BetaManagedAgentsAgentToolResultEvent;
    expect(result.tool_use_id).toBe(use.id);
    expect(JSON.stringify(result.content)).toContain("made-by-sdk");
    expect(fs.readFileSync(workspaceFile(session.id, "sdk.txt"), "utf8")).toBe("made-by-sdk\n");

    // Paging: small pages give every event once, in order; a type filter keeps only that type.
    const paged = await allEvents(session.id, { limit: 3 });
    expect(paged.map((e) => e.id)).toEqual([...new Set(paged.map((e) => e.id))]);
    expect(paged.filter((e) => e.type === "agent.message")).toHaveLength(2);
    const messages = await allEvents(session.id, { types: ["agent.message"] });
    expect(messages.map((e) => e.type)).toEqual(["agent.message", "agent.message"]);
    const newest = await sdk().sessions.events.list(session.id, { order: "desc", limit: 1 });
    expect(newest.data[0]?.id).toBe(paged.at(-1)?.id);

    // Resume: drop a replay after its third event, reconnect with Last-Event-ID, lose nothing.
    const replay = (await sdk().sessions.events.stream(session.id, {
      after: 0,
    } as never)) as unknown as Stream;
    let count = 0;
    const head = await readUntil(replay, () => ++count === 3);
    const resumed = (await sdk().sessions.events.stream(
      session.id,
      {},
      {
        headers: { "Last-Event-ID": idOf(head.at(-1)!) },
      },
    )) as unknown as Stream;
    let rest = 0;
    const tail = await readUntil(resumed, () => ++rest === paged.length - 3);
    expect([...head, ...tail].map(idOf)).toEqual(paged.map((e) => e.id));

    // The session is a Hangar session like any other: the sessions list and viewer show it.
    const native = await api("GET", `/api/v1/managed_agents/sessions/${session.id}`);
    expect(native.body).toMatchObject({ agent_id: agent.id, title: "from the SDK", status: "ready" });
    const listed = await sdk().sessions.list({ agent_id: agent.id });
    expect(listed.data.map((s) => s.id)).toEqual([session.id]);
    const idle = await sdk().sessions.list({ agent_id: agent.id, statuses: ["idle"] });
    expect(idle.data.map((s) => s.id)).toEqual([session.id]);
    expect((await sdk().sessions.list({ agent_id: agent.id, statuses: ["terminated"] })).data).toEqual([]);
    const retrieved = await sdk().sessions.retrieve(session.id);
    expect(retrieved).toMatchObject({
      status: "idle",
      metadata: { ticket: "T-1" },
      agent: { id: agent.id, version: 1 },
    });
    expect(retrieved.usage.output_tokens).toBeGreaterThan(0);
    const renamed = await sdk().sessions.update(session.id, { title: "renamed", metadata: { ticket: null } });
    expect(renamed).toMatchObject({ title: "renamed", metadata: {} });
    const archived = await sdk().sessions.archive(session.id);
    expect(archived).toMatchObject({ status: "terminated", archived_at: expect.any(String) });
    expect(await sdk().sessions.delete(session.id)).toEqual({ id: session.id, type: "session_deleted" });
    await expect(sdk().sessions.retrieve(session.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  }, 240_000);

  it("asks before an always_ask tool runs, and interrupts a running turn", async () => {
    const { session } = await idleSession([
      { type: "agent_toolset_20260401", default_config: { permission_policy: { type: "always_ask" } } },
    ]);
    const stream = (await sdk().sessions.events.stream(session.id)) as unknown as Stream;
    const read = reader(stream);
    await sdk().sessions.events.send(session.id, say("RUN: echo confirmed > confirmed.txt"));
    const asked = await read();
    const idle = asked.at(-1) as Anthropic.Beta.Sessions.BetaManagedAgentsSessionStatusIdleEvent;
    expect(idle.stop_reason.type).toBe("requires_action");
    const use = asked.find((e) => e.type === "agent.tool_use")!;
    expect(idle.stop_reason).toEqual({ type: "requires_action", event_ids: [use.id] });
    expect(fs.existsSync(workspaceFile(session.id, "confirmed.txt"))).toBe(false);
    expect((await sdk().sessions.retrieve(session.id)).status).toBe("running");

    await sdk().sessions.events.send(session.id, {
      events: [{ type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" }],
    });
    const done = await read();
    expect(done.map((e) => e.type)).toEqual(
      expect.arrayContaining(["user.tool_confirmation", "agent.tool_result"]),
    );
    expect(done.at(-1)).toMatchObject({ type: "session.status_idle", stop_reason: { type: "end_turn" } });
    expect(fs.readFileSync(workspaceFile(session.id, "confirmed.txt"), "utf8")).toBe("confirmed\n");

    // A denied tool does not run.
    await sdk().sessions.events.send(session.id, say("RUN: echo denied > denied.txt"));
    const again = await read();
    const second = again.find((e) => e.type === "agent.tool_use")!;
    await sdk().sessions.events.send(session.id, {
      events: [{ type: "user.tool_confirmation", tool_use_id: second.id, result: "deny" }],
    });
    await read();
    expect(fs.existsSync(workspaceFile(session.id, "denied.txt"))).toBe(false);

    // Interrupt: a slow reply is cut short and the agent is idle again.
    await sdk().sessions.events.send(
      session.id,
      say("SLOW: 1500\nREPLY: one two three four five six seven eight"),
    );
    await read((e) => e.type === "session.status_running");
    await sdk().sessions.events.send(session.id, { events: [{ type: "user.interrupt" }] });
    const stopped = await read();
    expect(stopped.at(-1)).toMatchObject({ type: "session.status_idle" });
    expect((await sdk().sessions.retrieve(session.id)).status).toBe("idle");
    stream.controller.abort();

    // A message to a busy or ended session is a typed error, not a hang.
    await sdk().sessions.archive(session.id);
    await expect(sdk().sessions.events.send(session.id, say("hello?"))).rejects.toBeInstanceOf(
      Anthropic.APIError,
    );
  }, 240_000);

  it("gives a session its vault's credentials in the sandbox, and keeps the value off every record", async () => {
    const canary = `vault-canary-${crypto.randomUUID()}`;
    const vault = await sdk().vaults.create({ display_name: unique("vault"), metadata: { owner: "ci" } });
    const credential = await sdk().vaults.credentials.create(vault.id, {
      display_name: "deploy token",
      auth: {
        type: "environment_variable",
        secret_name: "DEPLOY_TOKEN",
        secret_value: canary,
        networking: { type: "unrestricted" },
      },
    });
    const answers = [JSON.stringify(credential)];
    expect(credential.auth).toMatchObject({ type: "environment_variable", secret_name: "DEPLOY_TOKEN" });
    answers.push(
      JSON.stringify(await sdk().vaults.credentials.retrieve(credential.id, { vault_id: vault.id })),
    );
    const listed = await sdk().vaults.credentials.list(vault.id);
    answers.push(JSON.stringify(listed.data));
    expect(listed.data.map((c) => c.id)).toEqual([credential.id]);

    const { session } = await idleSession(undefined, [vault.id]);
    expect(session.vault_ids).toEqual([vault.id]);
    answers.push(JSON.stringify(session));
    const stream = (await sdk().sessions.events.stream(session.id)) as unknown as Stream;
    await sdk().sessions.events.send(session.id, say('RUN: printf %s "$DEPLOY_TOKEN" | sha256sum'));
    const turn = await readUntil(stream);
    const result = turn.find((e) => e.type === "agent.tool_result");
    const digest = createHash("sha256").update(canary).digest("hex");
    expect(JSON.stringify(result)).toContain(digest);
    answers.push(JSON.stringify(turn));
    for (const text of answers) expect(text).not.toContain(canary);

    // Not in the server log, and not in the database in plaintext (rows as text, or PGlite's files).
    await new Promise((r) => setTimeout(r, 200));
    expect(fs.readFileSync(inject("logFile"), "utf8")).not.toContain(canary);
    if (inject("dbChoice") === "postgres") {
      const sql = postgres(inject("databaseUrl") as string, { max: 1 });
      const rows = await sql`
        select c::text as row from vault_credentials c where id = ${credential.id}
        union all select s::text from sessions s where id = ${session.id}`;
      await sql.end();
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.row).not.toContain(canary);
        expect(row.row).toContain("enc:v1:");
      }
    } else {
      const dir = path.join(inject("dataDir"), "pglite");
      const grep = (needle: string) => spawnSync("grep", ["-rlaF", needle, dir], { encoding: "utf8" });
      expect(grep(credential.id).status, "credential id not found on disk").toBe(0);
      expect(grep(canary).stdout).toBe("");
    }

    // A vault of another workspace, or an archived one, is refused.
    await sdk().vaults.archive(vault.id);
    const refused = sdk().sessions.create({
      agent: session.agent.id,
      environment_id: session.environment_id,
      vault_ids: [vault.id],
    });
    await expect(refused).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    expect(await sdk().vaults.delete(vault.id)).toEqual({ id: vault.id, type: "vault_deleted" });
  }, 240_000);

  it("enforces an environment's limited networking, and runs the agent version a session pins", async () => {
    const environment = await sdk().environments.create({
      name: unique("env"),
      config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["allowed.test"] } },
    });
    const agent = await sdk().agents.create({
      name: unique("agent"),
      model: "claude-sonnet-4-6",
      system: "Marker V-ONE.",
    });
    await sdk().agents.update(agent.id, { version: 1, system: "Marker V-TWO." });
    const pinned = await sdk().sessions.create({
      agent: { type: "agent", id: agent.id, version: 1 },
      environment_id: environment.id,
    });
    expect(pinned.agent).toMatchObject({ id: agent.id, version: 1, system: "Marker V-ONE." });
    await waitIdle(pinned.id);
    const stream = (await sdk().sessions.events.stream(pinned.id)) as unknown as Stream;
    await sdk().sessions.events.send(
      pinned.id,
      say("RUN: curl -sS -o /dev/null https://elsewhere.test/ 2>&1; echo curl-exit=$?"),
    );
    const turn = await readUntil(stream);
    expect(JSON.stringify(turn.find((e) => e.type === "agent.tool_result"))).toMatch(/403/);
    const log = (await api("GET", `/api/v1/managed_agents/sessions/${pinned.id}/log?limit=1000`)).body
      .data as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(log.find((e) => e.type === "egress_denied")?.data).toMatchObject({ host: "elsewhere.test" });
    // The model was asked with version 1's prompt, not the agent's current one.
    const asked = (await api("GET", `/api/v1/model_gateway/requests?session_id=${pinned.id}`)).body.data as {
      system: string;
    }[];
    expect(asked.some((r) => r.system.includes("Marker V-ONE."))).toBe(true);
    expect(asked.some((r) => r.system.includes("Marker V-TWO."))).toBe(false);
    await sdk().sessions.delete(pinned.id);
  }, 240_000);

  it("an opencode agent's always_ask bash waits for the confirmation too", async () => {
    const environment = await sdk().environments.create({ name: unique("env") });
    const agent = await sdk().agents.create({
      name: unique("opencode"),
      model: "claude-sonnet-4-6",
      tools: [
        {
          type: "agent_toolset_20260401",
          configs: [{ name: "bash", permission_policy: { type: "always_ask" } }],
        },
      ],
      harness_id: "opencode",
    } as Anthropic.Beta.AgentCreateParams);
    expect(agent).toMatchObject({ harness_id: "opencode" });
    const session = await sdk().sessions.create({ agent: agent.id, environment_id: environment.id });
    await waitIdle(session.id);
    const stream = (await sdk().sessions.events.stream(session.id)) as unknown as Stream;
    const read = reader(stream);
    await sdk().sessions.events.send(session.id, say("RUN: echo asked > asked.txt"));
    const asked = await read();
    const idle = asked.at(-1) as Anthropic.Beta.Sessions.BetaManagedAgentsSessionStatusIdleEvent;
    expect(idle.stop_reason.type).toBe("requires_action");
    const [useId] = (idle.stop_reason as Anthropic.Beta.Sessions.BetaManagedAgentsSessionRequiresAction)
      .event_ids;
    expect(asked.find((e) => idOf(e) === useId)).toMatchObject({ type: "agent.tool_use", name: "bash" });
    expect(fs.existsSync(workspaceFile(session.id, "asked.txt"))).toBe(false);
    await sdk().sessions.events.send(session.id, {
      events: [{ type: "user.tool_confirmation", tool_use_id: useId!, result: "allow" }],
    });
    await read(
      (e) =>
        e.type === "session.status_idle" &&
        (e as { stop_reason?: { type: string } }).stop_reason?.type === "end_turn",
    );
    expect(fs.readFileSync(workspaceFile(session.id, "asked.txt"), "utf8")).toBe("asked\n");
    stream.controller.abort();
    await sdk().sessions.delete(session.id);
  }, 240_000);

  it("a message sent while the sandbox boots waits for it, and a second one is refused", async () => {
    const environment = await sdk().environments.create({ name: unique("env") });
    const agent = await sdk().agents.create({ name: unique("agent"), model: "claude-sonnet-4-6" });
    const session = await sdk().sessions.create({ agent: agent.id, environment_id: environment.id });
    expect(session.status).toBe("rescheduling");
    const sent = await sdk().sessions.events.send(session.id, say("REPLY: waited for the sandbox"));
    expect(sent.data?.[0]?.type).toBe("user.message");
    if ((await sdk().sessions.retrieve(session.id)).status === "rescheduling") {
      await expect(sdk().sessions.events.send(session.id, say("REPLY: too many"))).rejects.toBeInstanceOf(
        Anthropic.ConflictError,
      );
    }
    const stream = (await sdk().sessions.events.stream(session.id, {
      after: 0,
    } as never)) as unknown as Stream;
    const turn = await readUntil(stream, (e) => e.type === "session.status_idle");
    const reply = turn.find(
      (e) => e.type === "agent.message",
    ) as Anthropic.Beta.Sessions.BetaManagedAgentsAgentMessageEvent;
    expect(reply.content).toEqual([{ type: "text", text: "waited for the sandbox" }]);
    await sdk().sessions.delete(session.id);
  }, 240_000);
});
