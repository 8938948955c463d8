/*
 * Teams against a real Hangar: workspaces that share nothing, users invited by link, keys that are
 * shown once and die at once, roles that hold in the terminal too, and revocation that reaches
 * streams and terminals already open.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";

import { AGENTS, api, unique } from "../support/api";
import { openSse } from "../support/sse";
import { upgradeStatus, wsTerminal } from "../support/terminal";

const SESSIONS = "/api/v1/managed_agents/sessions";
const base = () => inject("baseUrl");
const wsBase = () => base().replace(/^http/, "ws");
const PASSWORD = "correct horse battery staple";

let ws = "";
/** As the master key in this file's own workspace. */
const admin = (method: string, path: string, body?: unknown) =>
  api(method, path, { body, headers: { "hangar-workspace": ws } });
const withKey = (key: string, method: string, path: string, body?: unknown) =>
  api(method, path, { key, body });

async function newKey(role: string, extra: Record<string, unknown> = {}) {
  const res = await admin("POST", "/api/v1/api_keys", { name: unique("key"), role, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; key: string; hint: string };
}

async function waitReady(id: string) {
  for (let i = 0; i < 900; i++) {
    const s = await admin("GET", `${SESSIONS}/${id}`);
    if (s.body.status === "ready") return s.body;
    if (s.body.status === "failed") throw new Error(s.text);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("never ready");
}

async function startSession(harness: string) {
  const agent = await admin("POST", AGENTS, { model: "hangar-test-model", harness_id: harness });
  const created = await admin("POST", `${AGENTS}/${agent.body.id}/session`, {});
  expect(created.status, created.text).toBe(201);
  return { agent: agent.body.id as string, session: await waitReady(created.body.id) };
}

/** Invites `email` with `role` and accepts as a new account; returns the login cookie and user id. */
async function invitedUser(role: string, email = `${unique("u")}@example.test`) {
  const invite = await admin("POST", "/api/v1/invites", { email, role });
  expect(invite.status, invite.text).toBe(201);
  expect(invite.body.url).toMatch(/\/invite\/inv_/);
  const accepted = await api("POST", `/api/v1/invites/accept/${invite.body.token}`, {
    key: null,
    body: { name: "Tess", password: PASSWORD },
  });
  expect(accepted.status, accepted.text).toBe(200);
  const cookie = String(accepted.headers.get("set-cookie")).split(";")[0]!;
  return { cookie, userId: accepted.body.user.id as string, email, token: invite.body.token as string };
}

const asCookie = (cookie: string, method: string, path: string, body?: unknown) =>
  api(method, path, { key: null, body, headers: { cookie, origin: base() } });

async function closedWithin(check: () => boolean, ms: number) {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return check();
}

describe("teams", () => {
  beforeAll(async () => {
    ws = (await api("POST", "/api/v1/workspaces", { body: { name: unique("team") } })).body.id;
  });

  it("an API key is shown once, kept as a hash, accepted as Bearer and x-api-key, and records its use", async () => {
    const key = await newKey("viewer");
    expect(key.key).toMatch(/^hgr_[A-Za-z0-9_-]{43}$/);
    expect(key.hint).toBe(`hgr_…${key.key.slice(-4)}`);
    const listed = await admin("GET", "/api/v1/api_keys");
    expect(listed.text).not.toContain(key.key);
    expect(listed.body.data.find((k: { id: string }) => k.id === key.id)).toMatchObject({
      last_used_at: null,
      role: "viewer",
    });
    expect((await withKey(key.key, "GET", AGENTS)).status).toBe(200);
    const viaHeader = await api("GET", "/api/v1/auth/session", {
      key: null,
      headers: { "x-api-key": key.key },
    });
    expect(viaHeader.body).toMatchObject({
      kind: "key",
      role: "viewer",
      key: { id: key.id },
      workspace: { id: ws },
    });
    const after = await admin("GET", "/api/v1/api_keys");
    expect(after.body.data.find((k: { id: string }) => k.id === key.id).last_used_at).not.toBeNull();
    // A near miss is no key at all.
    const near = key.key.slice(0, -1) + (key.key.endsWith("A") ? "B" : "A");
    expect((await withKey(near, "GET", AGENTS)).status).toBe(401);
  });

  it("a key limited to one agent sees and starts only that agent's sessions", async () => {
    const mine = await admin("POST", AGENTS, { model: "m/x", harness_id: "claude-agent-sdk" });
    const other = await admin("POST", AGENTS, { model: "m/x", harness_id: "claude-agent-sdk" });
    const key = await newKey("operator", { agent_ids: [mine.body.id] });
    const listed = await withKey(key.key, "GET", `${AGENTS}?limit=200`);
    expect(listed.body.data.map((a: { id: string }) => a.id)).toEqual([mine.body.id]);
    expect((await withKey(key.key, "GET", `${AGENTS}/${other.body.id}`)).status).toBe(404);
    expect((await withKey(key.key, "POST", `${AGENTS}/${other.body.id}/session`, {})).status).toBe(404);
    const started = await withKey(key.key, "POST", `${AGENTS}/${mine.body.id}/session`, {});
    expect(started.status, started.text).toBe(201);
    const elsewhere = await admin("POST", `${AGENTS}/${other.body.id}/session`, {});
    const sessions = await withKey(key.key, "GET", `${SESSIONS}?limit=200`);
    expect(sessions.body.data.map((s: { id: string }) => s.id)).toEqual([started.body.id]);
    expect((await withKey(key.key, "GET", `${SESSIONS}/${elsewhere.body.id}`)).status).toBe(404);
    // It cannot mint a key that reaches further than itself.
    const wider = await newKey("admin", { agent_ids: [mine.body.id] });
    const escalate = await withKey(wider.key, "POST", "/api/v1/api_keys", { name: "wide", role: "admin" });
    expect(escalate.status).toBe(400);
    for (const id of [started.body.id, elsewhere.body.id]) await admin("DELETE", `${SESSIONS}/${id}`);
  }, 60_000);

  it("revoking a key refuses it at once and closes its open event stream within 1 s", async () => {
    const { session } = await startSession("claude-agent-sdk");
    const key = await newKey("viewer");
    const stream = await openSse(`${SESSIONS}/${session.id}/stream?follow=1`, { key: key.key });
    const frames = stream.frames;
    expect((await frames.next()).done).toBe(false);
    let ended = false;
    void (async () => {
      for await (const _ of frames);
      ended = true;
    })();
    const revoked = await admin("DELETE", `/api/v1/api_keys/${key.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).not.toBeNull();
    const t0 = Date.now();
    expect(await closedWithin(() => ended, 1000), "stream still open 1 s after revocation").toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await withKey(key.key, "GET", AGENTS)).status).toBe(401);
    await admin("DELETE", `${SESSIONS}/${session.id}`);
  }, 90_000);

  it("terminals: a viewer watches but cannot type or take over; revoking closes the key's terminal and its tokens", async () => {
    const { session } = await startSession("codex");
    const viewer = await newKey("viewer");
    const operator = await newKey("operator");
    const url = `${wsBase()}${SESSIONS}/${session.id}/tty?meta=1`;
    const writer = await wsTerminal(url, { headers: { authorization: `Bearer ${operator.key}` } });
    await writer.waitFor("OpenAI Codex", 20_000);
    // The viewer asks to write; it is given a read-only seat, and takeover does nothing.
    const watcher = await wsTerminal(url, { headers: { authorization: `Bearer ${viewer.key}` } });
    await watcher.waitFor("OpenAI Codex");
    watcher.type('{"type":"takeover"}');
    watcher.type("typed-by-viewer");
    writer.type("typed-by-operator");
    await watcher.waitFor("typed-by-operator");
    expect(await writer.screen()).not.toContain("typed-by-viewer");
    expect(watcher.statuses.at(-1)).toMatchObject({ role: "viewer" });
    expect(writer.statuses.at(-1)).toMatchObject({ role: "writer" });
    // A viewer's session answer carries a read-only token; a shell needs an operator.
    const seen = await withKey(viewer.key, "GET", `${SESSIONS}/${session.id}`);
    expect(seen.body.tty_token).toMatch(/^ttk_[0-9a-z]+_r_/);
    const shell = `${wsBase()}${SESSIONS}/${session.id}/tty?terminal=shell`;
    expect(await upgradeStatus(shell, { authorization: `Bearer ${viewer.key}` })).toBe(403);
    // Another workspace's admin key gets the answer an unknown session gets.
    const elsewhere = (await api("POST", "/api/v1/workspaces", { body: { name: unique("elsewhere") } })).body
      .id;
    const stranger = await api("POST", "/api/v1/api_keys", {
      body: { name: "stranger", role: "admin" },
      headers: { "hangar-workspace": elsewhere },
    });
    const tty = `${wsBase()}${SESSIONS}/${session.id}/tty`;
    // A plain GET of the terminal, once authorised, is told to upgrade.
    expect((await withKey(viewer.key, "GET", `${SESSIONS}/${session.id}/tty`)).status).toBe(426);
    expect(await upgradeStatus(tty, { authorization: `Bearer ${stranger.body.key}` })).toBe(404);
    expect(
      await upgradeStatus(`${wsBase()}${SESSIONS}/sess_none/tty`, {
        authorization: `Bearer ${stranger.body.key}`,
      }),
    ).toBe(404);
    // The operator's token, minted for its key, dies with the key; so does the key's own terminal.
    const minted = (await withKey(operator.key, "GET", `${SESSIONS}/${session.id}`)).body.tty_token as string;
    expect(minted).toMatch(/^ttk_[0-9a-z]+_w_/);
    const viaToken = await wsTerminal(`${wsBase()}${SESSIONS}/${session.id}/tty?token=${minted}`);
    await viaToken.waitFor("OpenAI Codex");
    await admin("DELETE", `/api/v1/api_keys/${operator.id}`);
    expect(await closedWithin(() => Boolean(writer.closed() && viaToken.closed()), 1000)).toBe(true);
    expect(writer.closed()).toMatchObject({ code: 4403 });
    expect(await upgradeStatus(`${wsBase()}${SESSIONS}/${session.id}/tty?token=${minted}`)).toBe(401);
    expect(watcher.closed()).toBeNull();
    watcher.close();
    await admin("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);

  it("users: an invite link works once, logs in, and password login follows; wrong passwords are refused", async () => {
    const user = await invitedUser("operator");
    const who = await asCookie(user.cookie, "GET", "/api/v1/auth/session");
    expect(who.body).toMatchObject({
      kind: "browser",
      role: "operator",
      user: { email: user.email, name: "Tess" },
    });
    expect(who.body.workspace.id).toBe(ws);
    const again = await api("POST", `/api/v1/invites/accept/${user.token}`, {
      key: null,
      body: { password: PASSWORD },
    });
    expect(again.status).toBe(404);
    const wrong = await api("POST", "/api/v1/auth/login", {
      key: null,
      body: { email: user.email, password: "not it at all" },
    });
    expect(wrong.status).toBe(401);
    const right = await api("POST", "/api/v1/auth/login", {
      key: null,
      body: { email: user.email.toUpperCase(), password: PASSWORD },
    });
    expect(right.status, right.text).toBe(200);
    expect(right.body).toMatchObject({ kind: "browser", user: { id: user.userId }, role: "operator" });
    // An operator may not manage members or keys.
    expect((await asCookie(user.cookie, "GET", "/api/v1/api_keys")).status).toBe(403);
  });

  it("a user in two workspaces switches between them; a stranger's workspace is a 404", async () => {
    const user = await invitedUser("viewer");
    const second = (await api("POST", "/api/v1/workspaces", { body: { name: unique("second") } })).body.id;
    const invite = await api("POST", "/api/v1/invites", {
      body: { email: user.email, role: "admin" },
      headers: { "hangar-workspace": second },
    });
    // An existing account confirms with its own password, not a new one.
    const wrong = await api("POST", `/api/v1/invites/accept/${invite.body.token}`, {
      key: null,
      body: { password: "something else entirely" },
    });
    expect(wrong.status).toBe(400);
    const joined = await api("POST", `/api/v1/invites/accept/${invite.body.token}`, {
      key: null,
      body: { password: PASSWORD },
    });
    expect(joined.status, joined.text).toBe(200);
    const listed = await asCookie(user.cookie, "GET", "/api/v1/workspaces");
    expect(listed.body.data.map((w: { id: string; role: string }) => [w.id, w.role]).sort()).toEqual(
      [
        [second, "admin"],
        [ws, "viewer"],
      ].sort(),
    );
    const switched = await asCookie(user.cookie, "POST", "/api/v1/auth/workspace", { workspace_id: second });
    expect(switched.body).toMatchObject({ workspace: { id: second }, role: "admin" });
    expect((await asCookie(user.cookie, "GET", "/api/v1/auth/session")).body.role).toBe("admin");
    const stranger = (await api("POST", "/api/v1/workspaces", { body: { name: unique("stranger") } })).body
      .id;
    expect(
      (await asCookie(user.cookie, "POST", "/api/v1/auth/workspace", { workspace_id: stranger })).status,
    ).toBe(404);
  });

  it("members: the last admin stays; a role change and a removal reach open streams at once", async () => {
    const user = await invitedUser("admin");
    const members = await admin("GET", "/api/v1/members");
    const admins = members.body.data.filter((m: { role: string }) => m.role === "admin");
    expect(admins.map((m: { user_id: string }) => m.user_id)).toEqual([user.userId]);
    expect((await admin("PATCH", `/api/v1/members/${user.userId}`, { role: "viewer" })).status).toBe(409);
    expect((await admin("DELETE", `/api/v1/members/${user.userId}`)).status).toBe(409);
    const other = await invitedUser("operator");
    const { session } = await startSession("claude-agent-sdk");
    const cookieStream = await fetch(`${base()}${SESSIONS}/${session.id}/stream?follow=1`, {
      headers: { cookie: other.cookie },
    });
    expect(cookieStream.status).toBe(200);
    let ended = false;
    void cookieStream.text().then(
      () => (ended = true),
      () => (ended = true),
    );
    expect((await admin("PATCH", `/api/v1/members/${other.userId}`, { role: "viewer" })).status).toBe(200);
    expect(await closedWithin(() => ended, 1000)).toBe(true);
    expect((await asCookie(other.cookie, "GET", "/api/v1/auth/session")).body.role).toBe("viewer");
    expect((await admin("DELETE", `/api/v1/members/${other.userId}`)).status).toBe(204);
    // Removed from their only workspace, their login ends.
    expect((await asCookie(other.cookie, "GET", "/api/v1/auth/session")).status).toBe(401);
    await admin("DELETE", `${SESSIONS}/${session.id}`);
  }, 90_000);
});
