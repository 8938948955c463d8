import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

import { describe, expect, inject, it } from "vitest";

import { LocalDriver } from "@/lib/sandbox/drivers/local";

import { callServer as call } from "../support/api";
import {
  createTestDatabase,
  freePort,
  startServer,
  tempDir,
  waitForExit,
  type DbChoice,
} from "../support/server";
import { renderedTerminal } from "../support/terminal";

// The suite runs once per database; this test follows the run's choice.
const DBS: DbChoice[] = [inject("dbChoice")];

describe.each(DBS)("a server killed with SIGKILL restarts on the same data (%s)", (db) => {
  it("loses nothing that was acknowledged", async () => {
    const database = db === "postgres" ? await createTestDatabase() : null;
    const dataDir = tempDir("kill");
    try {
      const port = await freePort();
      const first = await startServer({ dataDir, databaseUrl: database?.url, port });
      const ids: string[] = [];
      // Writes in flight when the process dies; every acknowledged one must survive.
      const writes = Array.from({ length: 40 }, async (_, i) => {
        const res = await call(first, "POST", "/api/v1/managed_agents/agents", {
          model: "m/x",
          name: `k${i}`,
          env_vars: { TOKEN: `t${i}` },
        });
        if (res.status === 201) ids.push(res.body.id);
      });
      await Promise.all(writes.slice(0, 30));
      first.proc.kill("SIGKILL");
      await Promise.allSettled(writes);
      await waitForExit(first.proc);
      expect(ids.length).toBeGreaterThanOrEqual(30);

      const second = await startServer({
        dataDir,
        databaseUrl: database?.url,
        masterKey: first.masterKey,
        port,
      });
      try {
        for (const id of ids) {
          const res = await call(second, "GET", `/api/v1/managed_agents/agents/${id}`);
          expect(res.status, id).toBe(200);
          expect(res.body.env_vars).toEqual({ TOKEN: "********" });
        }
        const created = await call(second, "POST", "/api/v1/managed_agents/agents", { model: "m/after" });
        expect(created.status).toBe(201);
      } finally {
        await second.stop();
      }
    } finally {
      await database?.drop();
    }
  }, 180_000);
});

describe("start-up", () => {
  it("generates a master key on first start, stores it 0600 and prints it once", async () => {
    const dataDir = tempDir("keygen");
    const first = await startServer({ dataDir, masterKey: null });
    await first.stop();
    const keyFile = path.join(dataDir, "master.key");
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = fs.readFileSync(keyFile, "utf8").trim();
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(fs.readFileSync(first.logFile, "utf8")).toContain(key);
    expect(fs.statSync(path.join(dataDir, "encryption.key")).mode & 0o777).toBe(0o600);

    const second = await startServer({ dataDir, masterKey: null });
    const res = await fetch(`${second.url}/api/v1/skills`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    await second.stop();
    expect(fs.readFileSync(second.logFile, "utf8")).not.toContain(key);
  }, 120_000);

  it("a busy port stops the start with one sentence; the key it generated is printed on the next start", async () => {
    const dataDir = tempDir("busy");
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const failed = spawnSync(process.execPath, ["--import", "tsx", "server.ts"], {
        env: { NODE_ENV: "production", PATH: process.env.PATH, HANGAR_DATA_DIR: dataDir, PORT: String(port) },
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(failed.status).toBe(1);
      expect(failed.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(failed.stderr).not.toMatch(/at .*\.(ts|js):\d+/);
    } finally {
      await new Promise((r) => holder.close(r));
    }
    const key = fs.readFileSync(path.join(dataDir, "master.key"), "utf8").trim();
    const second = await startServer({ dataDir, masterKey: null });
    await second.stop();
    expect(fs.readFileSync(second.logFile, "utf8")).toContain(key);
    const third = await startServer({ dataDir, masterKey: null });
    await third.stop();
    expect(fs.readFileSync(third.logFile, "utf8")).not.toContain(key);
  }, 180_000);

  it("a second server on the same embedded database is refused with a clear message", async () => {
    const dataDir = tempDir("lock");
    const first = await startServer({ dataDir });
    try {
      const refused = await startServer({ dataDir }).then(
        () => new Error("the second server started"),
        (err: Error) => err,
      );
      expect(refused.message).toMatch(/Another Hangar process \(pid \d+\) is using the embedded database/);
      expect(refused.message).not.toMatch(/^\s+at /m); // one sentence, no stack
    } finally {
      await first.stop();
    }
  }, 120_000);

  it.each([
    [{ PORT: "http" }, /PORT/],
    [{ MASTER_KEY: "short" }, /MASTER_KEY must be at least 16 characters/],
    [{ DATABASE_URL: "mysql://x" }, /DATABASE_URL must be a postgres/],
    [{ HANGAR_ENCRYPTION_KEY: "abc" }, /HANGAR_ENCRYPTION_KEY must be 32 bytes/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL/],
  ])("bad setting %j stops the start with a clear message", (env, message) => {
    const res = spawnSync(process.execPath, ["--import", "tsx", "server.ts"], {
      env: { NODE_ENV: "production", PATH: process.env.PATH, HANGAR_DATA_DIR: tempDir("bad"), ...env },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/Invalid configuration/);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe("sessions survive a server crash", () => {
  const waitStatus = async (server: { url: string; masterKey: string }, id: string, want: string[]) => {
    for (let i = 0; i < 300; i++) {
      const res = await call(server, "GET", `/api/v1/managed_agents/sessions/${id}`);
      if (want.includes(res.body.status)) return res.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`session ${id} never reached ${want.join("/")}`);
  };

  it("kill -9 mid-turn: after the restart the log resumes with no gap, the turn ends explicitly, the session works", async () => {
    const dataDir = tempDir("crash-turn");
    const port = await freePort();
    const first = await startServer({ dataDir, port });
    const agent = await call(first, "POST", "/api/v1/managed_agents/agents", {
      model: "m/x",
      harness_id: "claude-agent-sdk",
    });
    const session = await call(first, "POST", `/api/v1/managed_agents/agents/${agent.body.id}/session`, {});
    const id = session.body.id as string;
    await waitStatus(first, id, ["ready"]);
    const words = Array.from({ length: 300 }, (_, i) => `w${i}`).join(" ");
    void call(first, "POST", `/api/v1/managed_agents/sessions/${id}/message`, {
      text: `SLOW: 50\nREPLY: ${words}`,
    }).catch(() => undefined);
    for (let i = 0; ; i++) {
      const events = (await call(first, "GET", `/api/v1/managed_agents/sessions/${id}/log`)).body.data;
      if (events.filter((e: { type: string }) => e.type === "assistant_delta").length >= 3) break;
      if (i > 300) throw new Error("the turn never streamed");
      await new Promise((r) => setTimeout(r, 50));
    }
    first.proc.kill("SIGKILL");
    await waitForExit(first.proc);

    const second = await startServer({ dataDir, masterKey: first.masterKey, port });
    try {
      expect((await waitStatus(second, id, ["ready", "dead", "failed"])).status).toBe("ready");
      const events = (await call(second, "GET", `/api/v1/managed_agents/sessions/${id}/log?limit=1000`)).body
        .data as {
        seq: number;
        type: string;
        data: Record<string, unknown>;
      }[];
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const started = events.filter((e) => e.type === "turn_started");
      expect(started).toHaveLength(1);
      const end = events.find(
        (e) =>
          (e.type === "turn_error" || e.type === "turn_complete") &&
          e.data.turn_id === started[0]!.data.turn_id,
      );
      expect(end?.type).toBe("turn_error");
      expect(String(end?.data.message)).toMatch(/Hangar restarted/);
      const next = await call(second, "POST", `/api/v1/managed_agents/sessions/${id}/message`, {
        text: "REPLY: still here",
      });
      expect(next.status).toBe(200);
      expect(next.body.parts.map((p: { text?: string }) => p.text ?? "").join("")).toBe("still here");
      await call(second, "DELETE", `/api/v1/managed_agents/sessions/${id}`);
    } finally {
      await second.stop();
    }
  }, 180_000);

  it("kill -9 with a TUI session: the TUI keeps running in its terminal and its screen comes back", async () => {
    const dataDir = tempDir("crash-tui");
    const port = await freePort();
    const first = await startServer({ dataDir, port });
    const agent = await call(first, "POST", "/api/v1/managed_agents/agents", {
      model: "m/x",
      harness_id: "codex",
    });
    const session = await call(first, "POST", `/api/v1/managed_agents/agents/${agent.body.id}/session`, {});
    await waitStatus(first, session.body.id, ["ready"]);
    const driver = new LocalDriver({ root: path.join(dataDir, "sessions") });
    const before = await renderedTerminal((events) => driver.attachPty(session.body.id, "tui", events));
    await before.waitFor("OpenAI Codex", 20_000);
    before.connection.write("typed before the crash");
    await before.waitFor("typed before the crash");
    const tuiPid = before.status()?.pid;
    expect(tuiPid).toBeGreaterThan(0);
    first.proc.kill("SIGKILL");
    await waitForExit(first.proc);

    const second = await startServer({ dataDir, masterKey: first.masterKey, port });
    try {
      expect((await waitStatus(second, session.body.id, ["ready", "dead", "failed"])).status).toBe("ready");
      const after = await renderedTerminal((events) => driver.attachPty(session.body.id, "tui", events));
      await after.waitFor("typed before the crash");
      expect(after.status()).toMatchObject({ running: true, pid: tuiPid, starts: 1 });
      after.connection.close();
      before.connection.close();
      await call(second, "DELETE", `/api/v1/managed_agents/sessions/${session.body.id}`);
      await expect(driver.attachPty(session.body.id, "tui", {})).rejects.toThrow(/No terminal/);
    } finally {
      await second.stop();
    }
  }, 180_000);

  it("kill -9 with a session running: the restarted server adopts it; stopping it leaves no process", async () => {
    const dataDir = tempDir("crash");
    const port = await freePort();
    const first = await startServer({ dataDir, port });
    const agent = await call(first, "POST", "/api/v1/managed_agents/agents", {
      model: "m/x",
      harness_id: "claude-agent-sdk",
    });
    const booting = await call(first, "POST", `/api/v1/managed_agents/agents/${agent.body.id}/session`, {});
    const ready = await call(first, "POST", `/api/v1/managed_agents/agents/${agent.body.id}/session`, {});
    await waitStatus(first, ready.body.id, ["ready"]);
    await waitStatus(first, booting.body.id, ["ready"]);
    const record = JSON.parse(
      fs.readFileSync(path.join(dataDir, "sessions", ready.body.id, "run", "sandbox.json"), "utf8"),
    );
    first.proc.kill("SIGKILL");
    await waitForExit(first.proc);
    expect(fs.existsSync(`/proc/${record.initPid}`)).toBe(true);

    const second = await startServer({ dataDir, masterKey: first.masterKey, port });
    try {
      const adopted = await waitStatus(second, ready.body.id, ["ready", "dead", "failed"]);
      expect(adopted.status).toBe("ready");
      const log = await call(second, "GET", `/api/v1/managed_agents/sessions/${ready.body.id}/log`);
      expect(log.body.data.map((e: { type: string }) => e.type)).toContain("recovered");
      for (const id of [ready.body.id, booting.body.id]) {
        expect((await call(second, "DELETE", `/api/v1/managed_agents/sessions/${id}`)).body.status).toBe(
          "dead",
        );
      }
      const stat = fs.existsSync(`/proc/${record.initPid}`)
        ? fs.readFileSync(`/proc/${record.initPid}/stat`, "utf8")
        : "";
      expect(stat === "" || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")).toBe(true);
    } finally {
      await second.stop();
    }
  }, 180_000);
});

describe("idle sessions", () => {
  it("are stopped after the idle timeout; any use of the session keeps it alive", async () => {
    const server = await startServer({ env: { HANGAR_IDLE_TIMEOUT_MINUTES: "0.1" } });
    try {
      const agent = await call(server, "POST", "/api/v1/managed_agents/agents", {
        model: "m/x",
        harness_id: "codex",
      });
      const start = async () => {
        const s = await call(server, "POST", `/api/v1/managed_agents/agents/${agent.body.id}/session`, {});
        for (let i = 0; i < 100; i++) {
          const r = await call(server, "GET", `/api/v1/managed_agents/sessions/${s.body.id}`);
          if (r.body.status === "ready") return s.body.id as string;
          await new Promise((res) => setTimeout(res, 100));
        }
        throw new Error("not ready");
      };
      const idle = await start();
      const used = await start();
      // Touch one of them every second for 12 s (twice the 6 s timeout); leave the other alone.
      for (let i = 0; i < 12; i++) {
        await call(server, "GET", `/api/v1/managed_agents/sessions/${used}/log`);
        await new Promise((res) => setTimeout(res, 1000));
      }
      const [idleNow, usedNow] = await Promise.all(
        [idle, used].map(
          async (id) => (await call(server, "GET", `/api/v1/managed_agents/sessions/${id}`)).body,
        ),
      );
      expect(idleNow).toMatchObject({ status: "dead", phase_detail: "idle for 6 seconds" });
      expect(usedNow.status).toBe("ready");
      await call(server, "DELETE", `/api/v1/managed_agents/sessions/${used}`);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe("the process driver (no isolation)", () => {
  it("runs several sessions at once, each on its own loopback ports, and says it isolates nothing", async () => {
    const server = await startServer({ env: { HANGAR_SANDBOX_DRIVER: "process" } });
    try {
      const agent = await call(server, "POST", "/api/v1/managed_agents/agents", {
        model: "m/x",
        harness_id: "opencode",
      });
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        ids.push(
          (await call(server, "POST", `/api/v1/managed_agents/agents/${agent.body.id}/session`, {})).body.id,
        );
      }
      for (const id of ids) {
        for (let i = 0; ; i++) {
          const res = await call(server, "GET", `/api/v1/managed_agents/sessions/${id}`);
          if (res.body.status === "ready") {
            expect(res.body.sandbox).toMatchObject({ driver: "process", isolation: "none" });
            break;
          }
          if (res.body.status === "failed" || i > 600) throw new Error(JSON.stringify(res.body));
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(fs.readFileSync(server.logFile, "utf8")).toMatch(/HAS NO ISOLATION/);
      for (const id of ids) await call(server, "DELETE", `/api/v1/managed_agents/sessions/${id}`);
    } finally {
      await server.stop();
    }
  }, 180_000);
});
