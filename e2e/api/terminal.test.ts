import fs from "node:fs";

import { describe, expect, inject, it } from "vitest";

import { AGENTS, api, createAgent } from "../support/api";
import { upgradeStatus, wsTerminal } from "../support/terminal";

/*
 * The terminal endpoint with real TUIs: Codex and Claude Code run in their sandboxes, Hangar holds
 * their PTYs, and clients attach over WebSocket with the reference product's framing.
 */

const SESSIONS = "/api/v1/managed_agents/sessions";
const wsBase = () => inject("baseUrl").replace(/^http/, "ws");

async function readyTui(harness: string) {
  const agent = await createAgent({ harness_id: harness, model: "hangar-test-model" });
  const created = await api("POST", `${AGENTS}/${agent.id}/session`, { body: {} });
  for (;;) {
    const res = await api("GET", `${SESSIONS}/${created.body.id}`);
    if (res.body.status === "ready") return res.body;
    if (res.body.status === "failed") throw new Error(JSON.stringify(res.body));
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the terminal endpoint", () => {
  it("attach with the session's token, type, get the reply, detach, reattach to the same screen", async () => {
    const session = await readyTui("claude-code");
    expect(session.tty_token).toMatch(/^ttk_/);
    expect(session.tty_url).toBe(`${SESSIONS}/${session.id}/tty?token=${session.tty_token}`);
    const first = await wsTerminal(wsBase() + session.tty_url);
    await first.waitFor(/Claude Code v2\.1\.332/, 20_000);
    first.resize(120, 32);
    first.type("REPLY: pong from the test model");
    await first.waitFor("REPLY: pong from the test model");
    first.type("\r");
    await first.waitFor(/● pong from the test model/, 30_000);
    first.close();

    const again = await wsTerminal(`${wsBase()}${SESSIONS}/${session.id}/tty`, {
      headers: { authorization: `Bearer ${inject("masterKey")}` },
    });
    await again.waitFor(/● pong from the test model/);
    again.close();
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);

  it("a terminal stays open after pages were served (Next must not take the upgrade)", async () => {
    const session = await readyTui("codex");
    expect((await fetch(`${inject("baseUrl")}/login`)).status).toBe(200);
    expect((await fetch(`${inject("baseUrl")}/sessions`, { redirect: "manual" })).status).toBeLessThan(400);
    const term = await wsTerminal(wsBase() + session.tty_url);
    await term.waitFor("OpenAI Codex", 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(term.closed()).toBeNull();
    term.type("still-open");
    await term.waitFor("still-open");
    term.close();
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);

  it("one writer, read-only viewers, explicit takeover; the writer's size wins", async () => {
    const session = await readyTui("codex");
    const url = `${wsBase()}${session.tty_url}&meta=1`;
    const writer = await wsTerminal(url);
    await writer.waitFor("OpenAI Codex", 20_000);
    const viewer = await wsTerminal(url.replace("meta=1", "meta=1&mode=view"));
    await viewer.waitFor("OpenAI Codex");
    expect(viewer.statuses.at(-1)).toMatchObject({ type: "status", role: "viewer" });
    viewer.type("typed-by-viewer");
    writer.type("typed-by-writer");
    await viewer.waitFor("typed-by-writer");
    expect(await writer.screen()).not.toContain("typed-by-viewer");
    // The viewer's size is ignored; the writer's applies.
    viewer.resize(60, 20);
    writer.resize(100, 30);
    const deadline = Date.now() + 5000;
    while (!writer.statuses.some((s) => s.cols === 100 && s.rows === 30) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    expect(writer.statuses.at(-1)).toMatchObject({ cols: 100, rows: 30 });
    // Takeover: the viewer writes, the old writer becomes a viewer.
    viewer.socket.send(JSON.stringify({ type: "takeover" }));
    const until = Date.now() + 5000;
    while (writer.statuses.at(-1)?.role !== "viewer" && Date.now() < until)
      await new Promise((r) => setTimeout(r, 25));
    expect(writer.statuses.at(-1)).toMatchObject({ role: "viewer" });
    viewer.type(" now-the-viewer-writes");
    await writer.waitFor("now-the-viewer-writes");
    writer.close();
    viewer.close();
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);

  it("the reference product's framing: keystrokes, a JSON resize, pings that are never typed", async () => {
    const session = await readyTui("codex");
    const lap = await wsTerminal(`${wsBase()}${session.tty_url}`);
    lap.socket.send(JSON.stringify({ type: "resize", cols: 90, rows: 28 }));
    lap.socket.send(JSON.stringify({ type: "ping" }));
    await lap.waitFor("OpenAI Codex", 20_000);
    lap.socket.send(Buffer.from("binary-keys"));
    lap.type("{not json");
    await lap.waitFor("binary-keys{not json");
    expect(await lap.screen()).not.toContain('"ping"');
    lap.close();
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);

  it("?terminal=shell opens a shell inside the sandbox of any session, with the harness's environment", async () => {
    const agent = await createAgent({
      harness_id: "claude-agent-sdk",
      env_vars: { FROM_AGENT: "agent-value" },
    });
    const created = (await api("POST", `${AGENTS}/${agent.id}/session`, { body: {} })).body;
    for (;;) {
      const res = await api("GET", `${SESSIONS}/${created.id}`);
      if (res.body.status === "ready") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const shell = await wsTerminal(`${wsBase()}${SESSIONS}/${created.id}/tty?terminal=shell`, {
      headers: { authorization: `Bearer ${inject("masterKey")}` },
    });
    shell.type('echo "shell-$((6*7)) uid=$(id -u) host=$(hostname) $FROM_AGENT"\r');
    await shell.waitFor("shell-42 uid=1000 host=sandbox agent-value");
    shell.close();
    await api("DELETE", `${SESSIONS}/${created.id}`);
  }, 120_000);

  it("refuses: no credentials, another session's token, a non-TUI session, a cross-site cookie; no secret in the log", async () => {
    const a = await readyTui("codex");
    const b = await readyTui("codex");
    expect(await upgradeStatus(`${wsBase()}${SESSIONS}/${a.id}/tty`)).toBe(401);
    expect(await upgradeStatus(`${wsBase()}${SESSIONS}/${b.id}/tty?token=${a.tty_token}`)).toBe(401);
    expect(await upgradeStatus(`${wsBase()}${SESSIONS}/${a.id}/tty?token=ttk_zz_${"x".repeat(43)}`)).toBe(
      401,
    );
    expect(await upgradeStatus(`${wsBase()}${SESSIONS}/${a.id}/tty?token=${a.tty_token}`)).toBe(101);
    expect(
      await upgradeStatus(`${wsBase()}${SESSIONS}/sess_none/tty`, {
        authorization: `Bearer ${inject("masterKey")}`,
      }),
    ).toBe(404);
    const sdkAgent = await createAgent({ harness_id: "claude-agent-sdk" });
    const sdk = (await api("POST", `${AGENTS}/${sdkAgent.id}/session`, { body: {} })).body;
    expect(sdk.tty_token).toBeNull();
    expect(
      await upgradeStatus(`${wsBase()}${SESSIONS}/${sdk.id}/tty`, {
        authorization: `Bearer ${inject("masterKey")}`,
      }),
    ).toBe(409);
    // A browser login cookie only works from Hangar's own pages.
    const login = await fetch(`${inject("baseUrl")}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: inject("baseUrl") },
      body: JSON.stringify({ master_key: inject("masterKey") }),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    expect(cookie).toMatch(/^hangar_session=/);
    expect(
      await upgradeStatus(`${wsBase()}${SESSIONS}/${a.id}/tty`, { cookie, origin: "https://evil.example" }),
    ).toBe(403);
    expect(
      await upgradeStatus(`${wsBase()}${SESSIONS}/${a.id}/tty`, { cookie, origin: inject("baseUrl") }),
    ).toBe(101);
    const log = fs.readFileSync(inject("logFile"), "utf8");
    expect(log).not.toContain(inject("masterKey"));
    expect(log).not.toContain(a.tty_token.slice(4));
    for (const s of [a, b, sdk]) await api("DELETE", `${SESSIONS}/${s.id}`);
  }, 120_000);
});
