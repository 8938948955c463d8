/*
 * A scripted day of a team's use, then the audit log read back: every action, in order, by whom,
 * and nothing secret anywhere in it (env values, keys, passwords, invite links, cookies).
 */
import fs from "node:fs";

import { describe, expect, inject, it } from "vitest";

import { AGENTS, api, unique } from "../support/api";
import { wsTerminal } from "../support/terminal";

const SESSIONS = "/api/v1/managed_agents/sessions";
const base = () => inject("baseUrl");
const ALICE_PASSWORD = "alice's long password";
const BOB_PASSWORD = "bob's long password too";
const CANARIES = ["canary-agent-secret-1d6f", "canary-rotated-secret-93ab", "canary-session-secret-7c21"];

type Entry = {
  seq: number;
  action: string;
  actor: { kind: string; id: string | null; label: string };
  resource: { type: string | null; id: string | null };
  detail: Record<string, unknown>;
};

describe("the audit log", () => {
  it("holds every action of a scripted day, in order, and nothing secret", async () => {
    const secrets: string[] = [...CANARIES, ALICE_PASSWORD, BOB_PASSWORD, inject("masterKey")];
    const ws = (await api("POST", "/api/v1/workspaces", { body: { name: unique("day") } })).body.id as string;
    const master = (method: string, path: string, body?: unknown) =>
      api(method, path, { body, headers: { "hangar-workspace": ws } });
    const as = (cookie: string) => (method: string, path: string, body?: unknown) =>
      api(method, path, { key: null, body, headers: { cookie, origin: base() } });
    const ok = <T extends { status: number; text: string }>(res: T, status = 200) => {
      expect(res.status, res.text).toBe(status);
      return res;
    };

    // Morning: the admin invites Alice, who joins and signs in again with her password.
    const aliceEmail = `${unique("alice")}@example.test`;
    const invite = ok(await master("POST", "/api/v1/invites", { email: aliceEmail, role: "admin" }), 201);
    secrets.push(invite.body.token);
    const joined = ok(
      await api("POST", `/api/v1/invites/accept/${invite.body.token}`, {
        key: null,
        body: { password: ALICE_PASSWORD },
      }),
    );
    const aliceId = joined.body.user.id as string;
    ok(
      await api("POST", "/api/v1/auth/login", {
        key: null,
        body: { email: aliceEmail, password: "a wrong password" },
      }),
      401,
    );
    const login = ok(
      await api("POST", "/api/v1/auth/login", {
        key: null,
        body: { email: aliceEmail, password: ALICE_PASSWORD },
      }),
    );
    const cookie = String(login.headers.get("set-cookie")).split(";")[0]!;
    secrets.push(cookie.split("=")[1]!);
    const alice = as(cookie);

    // She builds an agent with a secret, edits its prompt and rotates the secret, adds a skill.
    const agent = ok(
      await alice("POST", AGENTS, {
        name: "day agent",
        model: "hangar-test-model",
        harness_id: "claude-agent-sdk",
        prompt: "Be brief.",
        env_vars: { API_TOKEN: CANARIES[0] },
      }),
      201,
    ).body;
    ok(
      await alice("PATCH", `${AGENTS}/${agent.id}`, {
        prompt: "Be very brief.",
        env_vars: { API_TOKEN: CANARIES[1] },
      }),
    );
    const skill = ok(
      await alice("POST", "/api/v1/skills", { name: unique("skill"), content: "Say hi." }),
      201,
    ).body;
    ok(await alice("POST", `${AGENTS}/${agent.id}/skill`, { skill_id: skill.id }));

    // A CI key starts a session with a per-session secret and sends a message.
    const key = ok(await alice("POST", "/api/v1/api_keys", { name: "ci", role: "operator" }), 201).body;
    secrets.push(key.key);
    const ci = (method: string, path: string, body?: unknown) => api(method, path, { key: key.key, body });
    const session = ok(
      await ci("POST", `${AGENTS}/${agent.id}/session`, { env_vars: { RUN_SECRET: CANARIES[2] } }),
      201,
    ).body;
    for (let i = 0; i < 900 && (await ci("GET", `${SESSIONS}/${session.id}`)).body.status !== "ready"; i++)
      await new Promise((r) => setTimeout(r, 100));
    ok(await ci("POST", `${SESSIONS}/${session.id}/message`, { text: "REPLY: hi" }));

    // Alice opens a shell in the sandbox; then revokes the key.
    const shell = await wsTerminal(
      `${base().replace(/^http/, "ws")}${SESSIONS}/${session.id}/tty?terminal=shell`,
      {
        headers: { cookie, origin: base() },
      },
    );
    await shell.waitFor(/\S/, 20_000);
    shell.close();
    ok(await alice("DELETE", `/api/v1/api_keys/${key.id}`));
    ok(await ci("GET", AGENTS), 401);

    // Afternoon: Bob joins as a viewer, is made an operator, then removed. The session stops.
    const bobInvite = ok(
      await alice("POST", "/api/v1/invites", { email: `${unique("bob")}@example.test`, role: "viewer" }),
      201,
    );
    secrets.push(bobInvite.body.token);
    const bob = ok(
      await api("POST", `/api/v1/invites/accept/${bobInvite.body.token}`, {
        key: null,
        body: { password: BOB_PASSWORD },
      }),
    ).body.user.id as string;
    ok(await alice("PATCH", `/api/v1/members/${bob}`, { role: "operator" }));
    ok(await alice("DELETE", `/api/v1/members/${bob}`), 204);
    ok(await alice("DELETE", `${SESSIONS}/${session.id}`));
    ok(await alice("POST", "/api/v1/auth/logout"), 204);

    // Read it back in small pages, through the cursor.
    const entries: Entry[] = [];
    for (let cursor: number | null = null; ;) {
      const page: { body: { data: Entry[]; next_cursor: number | null } } = ok(
        await master("GET", `/api/v1/audit?limit=4${cursor === null ? "" : `&cursor=${cursor}`}`),
      );
      entries.push(...page.body.data);
      cursor = page.body.next_cursor;
      if (cursor === null) break;
    }
    expect(entries.map((e) => e.action)).toEqual([
      "workspace.create",
      "invite.create",
      "member.join",
      "auth.login",
      "auth.login_failed",
      "auth.login",
      "agent.create",
      "agent.update",
      "skill.create",
      "agent.skill_attach",
      "api_key.create",
      "session.start",
      "message.send",
      "terminal.attach",
      "api_key.revoke",
      "invite.create",
      "member.join",
      "auth.login",
      "member.role_change",
      "member.remove",
      "session.stop",
      "auth.logout",
    ]);
    const seqs = entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const by = (action: string) => entries.filter((e) => e.action === action);
    expect(by("agent.create")[0]).toMatchObject({
      actor: { kind: "user", id: aliceId, label: aliceEmail },
      resource: { type: "agent", id: agent.id },
      detail: { secrets_touched: ["API_TOKEN"] },
    });
    expect(by("agent.update")[0]!.detail).toEqual({
      changed: { prompt: { from: "Be brief.", to: "Be very brief." } },
      secrets_touched: ["API_TOKEN"],
    });
    expect(by("session.start")[0]).toMatchObject({
      actor: { kind: "key", id: key.id, label: "ci" },
      resource: { type: "session", id: session.id },
      detail: { agent_id: agent.id, env_vars_named: ["RUN_SECRET"] },
    });
    expect(by("message.send")[0]!.actor.kind).toBe("key");
    expect(by("terminal.attach")[0]).toMatchObject({
      actor: { id: aliceId },
      detail: { terminal: "shell", role: "writer" },
    });
    expect(by("member.role_change")[0]!.detail).toMatchObject({ role: { from: "viewer", to: "operator" } });
    expect(by("auth.login_failed")[0]!.actor).toMatchObject({ kind: "anonymous", label: aliceEmail });

    // The export is the same log as JSON lines, and neither has a secret in it.
    // (fetch, not api(): that helper parses anything JSON-typed as one document.)
    const exported = await fetch(`${base()}/api/v1/audit/export`, {
      headers: { authorization: `Bearer ${inject("masterKey")}`, "hangar-workspace": ws },
    });
    expect(exported.headers.get("content-type")).toContain("application/x-ndjson");
    const text = await exported.text();
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Entry);
    expect(lines).toEqual(entries);
    const pages = JSON.stringify(entries);
    const serverLog = fs.readFileSync(inject("logFile"), "utf8");
    for (const secret of secrets) {
      expect(pages, "a secret in the audit log").not.toContain(secret);
      expect(serverLog, "a secret in the server log").not.toContain(secret);
      expect(text).not.toContain(secret);
    }

    // Filters: by actor, by action prefix, by resource, by time.
    const byKey = ok(await master("GET", `/api/v1/audit?actor=${key.id}`)).body.data as Entry[];
    expect(byKey.map((e) => e.action)).toEqual(["session.start", "message.send"]);
    const agentActions = ok(await master("GET", "/api/v1/audit?action=agent.")).body.data as Entry[];
    expect(agentActions.map((e) => e.action)).toEqual(["agent.create", "agent.update", "agent.skill_attach"]);
    const aboutSession = ok(await master("GET", `/api/v1/audit?resource=${session.id}`)).body.data as Entry[];
    expect(aboutSession.map((e) => e.action)).toEqual([
      "session.start",
      "message.send",
      "terminal.attach",
      "session.stop",
    ]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(ok(await master("GET", `/api/v1/audit?since=${encodeURIComponent(future)}`)).body.data).toEqual(
      [],
    );
    // Another workspace's log shows none of it; a viewer cannot read the log.
    expect((await api("GET", "/api/v1/audit?limit=500")).text).not.toContain(session.id);
  }, 120_000);
});
