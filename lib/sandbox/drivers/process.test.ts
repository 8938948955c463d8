import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { freePort } from "@/lib/net";

import type { LaunchSpec, SandboxHandle } from "../types";
import { DEFAULT_PATH } from "./bwrap-args";
import { ProcessDriver } from "./process";
import { findExecutable, readProcStat } from "./procs";

/*
 * The process driver keeps the contract (env, cwd, dirs, exec, stop, idempotency, bridges) with no
 * isolation. These tests cover that subset; confinement is the local driver's job.
 */

const hasSocat = findExecutable("socat", DEFAULT_PATH) !== null;

const alive = (pid: number) => {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== "Z";
};

function processesIn(dir: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      if (pid === process.pid || !alive(pid)) return false;
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        return cmd.includes(dir) || fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(dir);
      } catch {
        return false;
      }
    });
}

describe("process sandbox driver (no isolation)", () => {
  let testRoot: string;
  let root: string;
  let driver: ProcessDriver;
  let handle: SandboxHandle;
  let spec: LaunchSpec;
  let server: http.Server;
  let port: number;
  const canary = `canary-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    testRoot = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-proc-test-"));
    root = path.join(testRoot, "sessions");
    fs.mkdirSync(root);
    server = http.createServer((req, res) => res.end(`gw:${req.url}`));
    await new Promise<void>((r) => server.listen(path.join(testRoot, "gw.sock"), r));
    port = await freePort();
    process.env.HANGAR_LEAK_CANARY = canary;
    driver = new ProcessDriver({ root });
    spec = {
      sessionId: "p1",
      sessionDir: path.join(root, "p1"),
      argv: ["/bin/sh", "-c", "echo started-main; sleep 300 & sleep 300"],
      env: { PATH: DEFAULT_PATH, MARK: "p1" },
      bridges: hasSocat ? [{ port, socketPath: path.join(testRoot, "gw.sock") }] : [],
      limits: { nofile: 222 },
    };
    handle = await driver.launch(spec);
  });

  afterAll(async () => {
    delete process.env.HANGAR_LEAK_CANARY;
    if (driver) for (const h of await driver.list()) await driver.stop(h.sessionId, { graceMs: 0 });
    await new Promise((r) => server.close(r));
    fs.rmSync(testRoot, { recursive: true, force: true });
  });

  it("reports no isolation and a running sandbox", async () => {
    expect(driver.isolation).toBe("none");
    expect(handle).toMatchObject({ state: "running", isolation: "none", driver: "process" });
    expect(handle.initPid).toBeUndefined();
    expect((await driver.preflight()).notes.join(" ")).toMatch(/no isolation/);
  });

  it("exec runs in the workspace with the spec's environment only", async () => {
    expect(process.env.HANGAR_LEAK_CANARY).toBe(canary);
    const env = await driver.exec("p1", ["/usr/bin/env"]);
    const lines = env.stdout.trim().split("\n");
    // Its private folder for the environment file: memory, not the data folder.
    expect(lines).toContainEqual(expect.stringMatching(/^HANGAR_PRIVATE=\/dev\/shm\/hangar-/));
    expect(lines.filter((l) => !l.startsWith("HANGAR_PRIVATE=")).sort()).toEqual(
      [
        `HOME=${path.join(root, "p1/home")}`,
        "MARK=p1",
        `PATH=${DEFAULT_PATH}`,
        `TMPDIR=${path.join(root, "p1/tmp")}`,
      ].sort(),
    );
    const pwd = await driver.exec("p1", ["pwd"]);
    expect(pwd.stdout.trim()).toBe(path.join(root, "p1/workspace"));
    const main = fs.readFileSync(`/proc/${handle.pid}/environ`, "utf8");
    expect(main).not.toContain(canary);
  });

  it("exec writes files into the session dirs and reports exit codes, stdin and rlimits", async () => {
    const r = await driver.exec(
      "p1",
      ["/bin/sh", "-c", 'cat > out.txt; echo "$HOME" > "$HOME/h"; ulimit -n; exit 3'],
      {
        stdin: "from-stdin",
      },
    );
    expect(r).toMatchObject({ exitCode: 3, stdout: "222\n", timedOut: false });
    expect(fs.readFileSync(path.join(root, "p1/workspace/out.txt"), "utf8")).toBe("from-stdin");
    expect(fs.existsSync(path.join(root, "p1/home/h"))).toBe(true);
    const sub = await driver.exec("p1", ["pwd"], { cwd: "sub/.." });
    expect(sub.stdout.trim()).toBe(path.join(root, "p1/workspace"));
  });

  it("exec honours a timeout", async () => {
    const t0 = Date.now();
    const r = await driver.exec("p1", ["sleep", "10"], { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBe(137);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it.skipIf(!hasSocat)("bridges a loopback port to a Unix socket", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/ping`);
    expect(await res.text()).toBe("gw:/ping");
  });

  it("captures output in run/sandbox.log", () => {
    expect(fs.readFileSync(handle.logPath, "utf8")).toContain("started-main");
  });

  it("launch is idempotent; stop kills the tree, bridges and detached children; stop twice is fine", async () => {
    expect((await driver.launch(spec)).pid).toBe(handle.pid);
    await driver.exec("p1", ["/bin/sh", "-c", "setsid sleep 302 >/dev/null 2>&1 </dev/null &"]);
    const dir = path.join(root, "p1");
    const before = processesIn(dir);
    expect(before.length).toBeGreaterThanOrEqual(4); // supervisor, sh, 2 sleeps, socat, detached sleep
    const privateDir = JSON.parse(fs.readFileSync(path.join(dir, "run", "sandbox.json"), "utf8")).env
      .HANGAR_PRIVATE as string;
    expect(fs.statSync(privateDir).mode & 0o777).toBe(0o700);
    await driver.stop("p1");
    expect(fs.existsSync(privateDir)).toBe(false);
    for (const pid of before) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(processesIn(dir)).toEqual([]);
    await driver.stop("p1");
    expect(await driver.status("p1")).toMatchObject({ state: "exited" });
    await expect(driver.exec("p1", ["true"])).rejects.toMatchObject({ code: "not_running" });
  });

  it("records the main command's exit code", async () => {
    await driver.launch({
      sessionId: "p2",
      sessionDir: path.join(root, "p2"),
      argv: ["sh", "-c", "exit 5"],
      env: {},
    });
    const deadline = Date.now() + 5000;
    let status = await driver.status("p2");
    while (status?.state !== "exited" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      status = await driver.status("p2");
    }
    expect(status).toMatchObject({ state: "exited", exitCode: 5 });
  });

  it.skipIf(!hasSocat)(
    "waits for the main command past a slow prlimit: the harness socket is taken once the bridge made it",
    async () => {
      // The supervisor runs prlimit on itself before the entry script; without a pid namespace the
      // supervisor is the parent the driver watches, so a prlimit still running once looked like the
      // main command, and the harness socket was looked for before entry.sh had made it.
      // Not `exec`: the wrapper stays the supervisor's child for the whole run, as a slow prlimit
      // binary would (the real one then runs as the wrapper's child, on the pid it is given).
      const slow = path.join(testRoot, "slow-prlimit");
      fs.writeFileSync(slow, `#!/bin/sh\nsleep 0.5\n${findExecutable("prlimit", DEFAULT_PATH)} "$@"\n`, {
        mode: 0o755,
      });
      const slowDriver = new ProcessDriver({ root, binaries: { prlimit: slow } });
      const harnessPort = await freePort();
      const sessionDir = path.join(root, "p3");
      const launched = await slowDriver.launch({
        sessionId: "p3",
        sessionDir,
        argv: ["sleep", "300"],
        env: { PATH: DEFAULT_PATH },
        reverseBridges: [{ socketPath: path.join(sessionDir, "run/sock/harness.sock"), port: harnessPort }],
        limits: { nofile: 333 },
      });
      expect(launched.state).toBe("running");
      expect(fs.lstatSync(path.join(sessionDir, "run/tunnels/harness.sock")).isSocket()).toBe(true);
      await slowDriver.stop("p3", { graceMs: 0 });
    },
  );
});
