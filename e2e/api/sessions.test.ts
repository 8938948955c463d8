import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import postgres from "postgres";
import { describe, expect, inject, it } from "vitest";

import { LocalDriver } from "@/lib/sandbox/drivers/local";
import { ProcessDriver } from "@/lib/sandbox/drivers/process";
import { sessionSchema } from "@/lib/schemas/session";

import { AGENTS, api, b64, createAgent, createSkill } from "../support/api";
import { renderedTerminal } from "../support/terminal";

const SESSIONS = "/api/v1/managed_agents/sessions";

async function waitFor(id: string, statuses: string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api("GET", `${SESSIONS}/${id}`);
    if (statuses.includes(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`session ${id} stuck in ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Gone, or a zombie nobody reaped yet (this machine's PID 1 does not reap orphans). */
function isGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

const sessionDir = (id: string) => path.join(inject("dataDir"), "sessions", id);

/** The environment of the sandbox's main harness process, read from /proc on the host (we are root). */
function harnessEnv(id: string): Record<string, string> {
  const record = JSON.parse(fs.readFileSync(path.join(sessionDir(id), "run", "sandbox.json"), "utf8"));
  const children = (pid: number): number[] => {
    const out: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid === pid) out.push(Number(entry), ...children(Number(entry)));
      } catch {
        // gone
      }
    }
    return out;
  };
  for (const pid of [record.initPid, ...children(record.initPid)]) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "sleep") continue;
      const raw = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
      return Object.fromEntries(
        raw
          .split("\0")
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      );
    } catch {
      // gone
    }
  }
  throw new Error("harness process not found");
}

describe("sessions", () => {
  it("boots a sandbox: files at their paths, skills as SKILL.md, env precedence, per-session secrets only in the sandbox", async () => {
    const canary = `session-canary-${crypto.randomUUID()}`;
    const skill = await createSkill({ name: "Code Review", content: "Review every diff." });
    const agent = await createAgent({
      harness_id: "claude-agent-sdk",
      prompt: "You are careful.",
      skill_ids: [skill.id],
      env_vars: { SHARED: "from-agent", AGENT_ONLY: "a" },
      sandbox_files: [
        { name: "notes", sandbox_path: "~/notes/n.txt", content: b64("hello"), size: 5 },
        { name: "bin", sandbox_path: "/tmp/data.bin", content: b64(Buffer.from([0, 255, 1])), size: 3 },
      ],
    });
    const created = await api("POST", `${AGENTS}/${agent.id}/session`, {
      body: { title: "boot", env_vars: { SHARED: "from-session", SESSION_SECRET: canary } },
    });
    expect(created.status).toBe(201);
    sessionSchema.strict().parse(created.body);
    expect(created.body).toMatchObject({
      status: "creating",
      agent_id: agent.id,
      title: "boot",
      harness_id: "claude-agent-sdk",
    });

    const ready = await waitFor(created.body.id, ["ready", "failed"]);
    expect(ready.failure_reason).toBeNull();
    expect(ready).toMatchObject({
      status: "ready",
      phase: "ready",
      sandbox: { driver: "local", isolation: "namespaces" },
    });
    expect(ready.timings.total).toBeGreaterThan(0);

    const dir = sessionDir(ready.id);
    expect(fs.readFileSync(path.join(dir, "home", "notes", "n.txt"), "utf8")).toBe("hello");
    expect([...fs.readFileSync(path.join(dir, "tmp", "data.bin"))]).toEqual([0, 255, 1]);
    const skillMd = fs.readFileSync(
      path.join(dir, "home", ".claude", "skills", "code-review", "SKILL.md"),
      "utf8",
    );
    expect(skillMd).toContain("Review every diff.");
    expect(fs.existsSync(path.join(dir, "home", ".hangar", "boot.json"))).toBe(false);

    const env = harnessEnv(ready.id);
    expect(env.SHARED).toBe("from-session");
    expect(env.AGENT_ONLY).toBe("a");
    expect(env.SESSION_SECRET).toBe(canary);
    expect(env.LITELLM_DEFAULT_MODEL).toBe(agent.model);
    expect(env.AGENT_PROMPT).toContain("You are careful.");
    expect(env.AGENT_PROMPT).toContain(`<!-- skill:${skill.id} -->`);
    expect(env.LITELLM_API_BASE).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.LITELLM_API_KEY).toMatch(/^hst_/);
    expect(env.MASTER_KEY).toBeUndefined();
    expect(Object.values(env)).not.toContain(inject("masterKey"));

    // The per-session secret never reaches the database, the log or an API answer.
    const timeline = await api("GET", `${SESSIONS}/${ready.id}/log`);
    expect(timeline.text).not.toContain(canary);
    expect(timeline.body.data.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(["created", "phase", "status"]),
    );
    expect(fs.readFileSync(inject("logFile"), "utf8")).not.toContain(canary);
    if (inject("dbChoice") === "postgres") {
      const sql = postgres(inject("databaseUrl") as string, { max: 1 });
      const rows = await sql`select s::text as row from sessions s where id = ${ready.id}`;
      const events = await sql`select e::text as row from session_events e where session_id = ${ready.id}`;
      await sql.end();
      expect(rows[0]?.row).not.toContain(canary);
      expect(rows[0]?.row).not.toContain("from-agent");
      for (const e of events) expect(e.row).not.toContain(canary);
    } else {
      const grep = spawnSync("grep", ["-rlaF", canary, path.join(inject("dataDir"), "pglite")], {
        encoding: "utf8",
      });
      expect(grep.stdout).toBe("");
    }

    // Stop: the sandbox is gone, the record stays; stopping again is fine.
    const stopped = await api("DELETE", `${SESSIONS}/${ready.id}`);
    expect(stopped.body.status).toBe("dead");
    expect((await api("DELETE", `${SESSIONS}/${ready.id}`)).body.status).toBe("dead");
    const record = JSON.parse(fs.readFileSync(path.join(dir, "run", "sandbox.json"), "utf8"));
    expect(isGone(record.initPid)).toBe(true);
    // Nothing of the sandbox stays on disk but its log: the per-session values went with it.
    for (const gone of ["home", "workspace", "tmp"]) expect(fs.existsSync(path.join(dir, gone))).toBe(false);
    expect(spawnSync("grep", ["-rlaF", canary, dir], { encoding: "utf8" }).stdout).toBe("");
    expect((await api("GET", `${SESSIONS}/${ready.id}/sandbox_logs`)).status).toBe(200);
  }, 120_000);

  it.each([
    ["claude-code", /Claude Code v2\.1\.332/],
    ["codex", /OpenAI Codex \(v0\.171\.0\)/],
  ])(
    "a %s session holds its TUI in a terminal: at its prompt, no onboarding, still there after detach",
    async (harness, banner) => {
      const agent = await createAgent({ harness_id: harness, prompt: "Be brief." });
      const session = (await api("POST", `${AGENTS}/${agent.id}/session`, { body: {} })).body;
      const ready = await waitFor(session.id, ["ready", "failed"]);
      expect(ready).toMatchObject({ status: "ready", supports_tui: true });
      // Attach the way Hangar does, through the driver that launched it (records are on disk).
      const root = path.join(inject("dataDir"), "sessions");
      const driver =
        ready.sandbox.driver === "local" ? new LocalDriver({ root }) : new ProcessDriver({ root });
      const first = await renderedTerminal((events) => driver.attachPty(session.id, "tui", events));
      const screen = await first.waitFor(banner, 20_000);
      expect(screen).not.toMatch(/trust this folder|Trust and continue|Unable to connect|Welcome to Claude/i);
      expect(first.status()).toMatchObject({ running: true, starts: 1 });
      first.connection.close();
      // A second client gets the same screen back from the holder.
      const second = await renderedTerminal((events) => driver.attachPty(session.id, "tui", events));
      await second.waitFor(banner);
      second.connection.close();
      const timeline = await api("GET", `${SESSIONS}/${session.id}/log`);
      expect(timeline.body.data.map((e: { type: string }) => e.type)).toContain("terminal");
      await api("DELETE", `${SESSIONS}/${session.id}`);
      await expect(driver.attachPty(session.id, "tui", {})).rejects.toThrow(/No terminal/);
    },
    120_000,
  );

  it("editing the agent does not change a session; restart keeps the configuration", async () => {
    const agent = await createAgent({ harness_id: "claude-agent-sdk", prompt: "Original." });
    const session = (await api("POST", `${AGENTS}/${agent.id}/session`, { body: {} })).body;
    await waitFor(session.id, ["ready"]);
    await api("PATCH", `${AGENTS}/${agent.id}`, { body: { prompt: "Changed.", model: "other/model" } });
    const restarted = await api("POST", `${SESSIONS}/${session.id}/restart`, { body: {} });
    expect(restarted.status).toBe(200);
    const ready = await waitFor(session.id, ["ready"]);
    expect(ready.model).toBe(agent.model);
    expect(harnessEnv(session.id).AGENT_PROMPT).toBe("Original.");
    await api("DELETE", `${SESSIONS}/${session.id}`);
  }, 120_000);

  it("lists newest first, filters by agent and status, and never embeds history", async () => {
    const agent = await createAgent({ harness_id: "claude-agent-sdk" });
    const a = (await api("POST", `${AGENTS}/${agent.id}/session`, { body: { title: "a" } })).body;
    const b = (await api("POST", `${AGENTS}/${agent.id}/session`, { body: { title: "b" } })).body;
    await waitFor(a.id, ["ready"]);
    await waitFor(b.id, ["ready"]);
    await api("DELETE", `${SESSIONS}/${a.id}`);
    const list = await api("GET", `${SESSIONS}?agent_id=${agent.id}`);
    expect(list.body.total).toBe(2);
    expect(list.body.data.map((s: { id: string }) => s.id)).toEqual([b.id, a.id]);
    const live = await api("GET", `${SESSIONS}?agent_id=${agent.id}&status=ready`);
    expect(live.body.data.map((s: { id: string }) => s.id)).toEqual([b.id]);
    expect(Object.keys(list.body.data[0])).not.toContain("history");
    const agents = await api("GET", `${AGENTS}?search=${agent.id}`);
    expect(agents.body.data[0]).toMatchObject({ id: agent.id, session_count: 2, has_active_session: true });
    // Deleting the agent stops its live sessions.
    const record = JSON.parse(fs.readFileSync(path.join(sessionDir(b.id), "run", "sandbox.json"), "utf8"));
    expect((await api("DELETE", `${AGENTS}/${agent.id}`)).status).toBe(204);
    expect(isGone(record.initPid)).toBe(true);
  }, 120_000);

  it.each([
    [{ env_vars: { LITELLM_API_KEY: "x" } }, ["env_vars", "LITELLM_API_KEY"]],
    [{ env_vars: { "BAD-KEY": "x" } }, ["env_vars", "BAD-KEY"]],
    [{ skill_ids: ["a", "a"] }, ["skill_ids"]],
    [{ title: "x".repeat(201) }, ["title"]],
  ])("invalid body %j → 400 on %j", async (body, issuePath) => {
    const agent = await createAgent();
    const res = await api("POST", `${AGENTS}/${agent.id}/session`, { body });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(issuePath);
  });

  it("unknown agent or skill → 404; unknown session → 404", async () => {
    expect((await api("POST", `${AGENTS}/agt_none/session`, { body: {} })).status).toBe(404);
    const agent = await createAgent();
    expect(
      (await api("POST", `${AGENTS}/${agent.id}/session`, { body: { skill_ids: ["skl_none"] } })).status,
    ).toBe(404);
    for (const p of ["", "/log", "/sandbox_logs"])
      expect((await api("GET", `${SESSIONS}/sess_none${p}`)).status).toBe(404);
    expect((await api("DELETE", `${SESSIONS}/sess_none`)).status).toBe(404);
  });

  it("a file that cannot be written fails the boot with a reason a person can act on", async () => {
    const agent = await createAgent({
      harness_id: "claude-agent-sdk",
      sandbox_files: [{ name: "etc", sandbox_path: "/etc/hangar-test.conf", content: b64("x"), size: 1 }],
    });
    const session = (await api("POST", `${AGENTS}/${agent.id}/session`, { body: {} })).body;
    const failed = await waitFor(session.id, ["failed", "ready"]);
    expect(failed.status).toBe("failed");
    expect(failed.failure_reason).toMatch(/could not write \/etc\/hangar-test.conf: .*read-only/);
    const logs = await api("GET", `${SESSIONS}/${session.id}/sandbox_logs`);
    expect(logs.status).toBe(200);
    expect(logs.headers.get("content-type")).toMatch(/^text\/plain/);
  }, 120_000);
});
