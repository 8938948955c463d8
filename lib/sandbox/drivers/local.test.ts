import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { sessionPaths } from "../layout";
import { seccompSupported } from "../seccomp";
import { SandboxError, type LaunchSpec, type SandboxHandle } from "../types";
import { DEFAULT_PATH } from "./bwrap-args";
import { LocalDriver } from "./local";
import { findExecutable, readProcStat } from "./procs";
import { rotateLog } from "./records";
import { STATUS_FD } from "./supervisor";

/*
 * Confinement proofs on real bubblewrap sandboxes. Each check pairs the denial with a control that
 * shows the same probe succeeds where it should (host side, or a path that is not hidden), so a
 * missing flag makes the test fail rather than pass vacuously.
 */

const TOOLS = ["bwrap", "socat", "nsenter", "setpriv", "prlimit", "curl", "python3"];
const missing = TOOLS.filter((t) => !findExecutable(t, DEFAULT_PATH));
if (missing.length > 0) {
  console.warn(
    `SKIPPING local sandbox driver tests: missing ${missing.join(", ")} (apt-get install bubblewrap socat)`,
  );
}

// The test root must not sit under a path the driver hides by default (/tmp, /var/tmp, /home, /root),
// or the hidden-data-dir check would pass without hidePaths. /var/lib is where a real data dir lives.
function makeTestRoot(): string {
  for (const base of ["/var/lib", process.cwd()]) {
    try {
      return fs.mkdtempSync(path.join(base, "hangar-sbx-test-"));
    } catch {
      // Not writable; try the next.
    }
  }
  throw new Error("No writable folder for the sandbox tests");
}

function listen(server: http.Server, where: string | number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    if (typeof where === "string") server.listen(where, () => resolve());
    else server.listen(where, "127.0.0.1", () => resolve());
  });
}

function getViaSocket(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: "/from-host", timeout: 2000 }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Live (non-zombie) host processes whose cmdline or cwd mentions `dir`, or that sit in `pidNs`. */
function processesOf(dir: string, pidNs?: string): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const state = readProcStat(pid)?.state;
    if (!state || state === "Z" || pid === process.pid) continue;
    let cmdline = "";
    let cwd = "";
    let ns = "";
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      ns = fs.readlinkSync(`/proc/${pid}/ns/pid`);
    } catch {
      // Exited while we looked, or a kernel thread.
    }
    if (cmdline.includes(dir) || cwd.startsWith(dir) || (pidNs !== undefined && ns === pidNs))
      found.push(pid);
  }
  return found;
}

const alive = (pid: number) => {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== "Z";
};

describe.skipIf(missing.length > 0)("local sandbox driver (bubblewrap)", () => {
  let testRoot: string;
  let root: string;
  let driver: LocalDriver;
  let main: SandboxHandle;
  let mainSpec: LaunchSpec;
  let hostTcpPort: number;
  const servers: http.Server[] = [];
  const canary = `canary-${Math.random().toString(36).slice(2)}`;

  const sh = (id: string, script: string, d: LocalDriver = driver) => d.exec(id, ["/bin/sh", "-c", script]);

  beforeAll(async () => {
    testRoot = makeTestRoot();
    root = path.join(testRoot, "sessions");
    for (const dir of ["data", "visible", "gw", "sessions/other/workspace", "sessions/main/run/listen"]) {
      fs.mkdirSync(path.join(testRoot, dir), { recursive: true });
    }
    fs.writeFileSync(path.join(testRoot, "data/canary.txt"), canary);
    fs.writeFileSync(path.join(testRoot, "visible/control.txt"), "control-visible");
    fs.writeFileSync(path.join(testRoot, "sessions/other/workspace/secret.txt"), "sibling-secret");

    // Host-side servers: plain TCP on the host loopback, and two Unix-socket HTTP servers for bridges.
    const tcp = http.createServer((_req, res) => res.end("host-tcp"));
    await listen(tcp, 0);
    hostTcpPort = (tcp.address() as AddressInfo).port;
    const egress = http.createServer((req, res) => res.end(`egress:${req.url}`));
    await listen(egress, path.join(testRoot, "gw/egress.sock"));
    const llm = http.createServer((req, res) => res.end(`llm:${req.url}`));
    await listen(llm, path.join(root, "main/run/listen/llm.sock"));
    servers.push(tcp, egress, llm);

    process.env.HANGAR_LEAK_CANARY = canary;
    driver = new LocalDriver({ root });
    mainSpec = {
      sessionId: "main",
      sessionDir: path.join(root, "main"),
      argv: [
        "node",
        "-e",
        'console.log("hello-log"); console.error("hello-err");' +
          'require("http").createServer((q, s) => s.end("inside uid=" + process.getuid()))' +
          '.listen(4096, "127.0.0.1")',
      ],
      env: { PATH: DEFAULT_PATH, LANG: "C.UTF-8", SESSION_MARK: "main" },
      bridges: [
        { port: 4010, socketPath: path.join(testRoot, "gw/egress.sock") },
        { port: 4011, socketPath: path.join(root, "main/run/listen/llm.sock") },
      ],
      reverseBridges: [{ socketPath: path.join(root, "main/run/sock/harness.sock"), port: 4096 }],
      limits: { memoryMiB: 512, pids: 256, nofile: 512 },
      // The root shows only what it is told to: the test root (read-only), with holes hidden in it.
      readOnlyPaths: [testRoot],
      hidePaths: [path.join(testRoot, "data"), root],
    };
    const t0 = Date.now();
    main = await driver.launch(mainSpec);
    console.log(`launch took ${Date.now() - t0} ms; limits: ${JSON.stringify(main.limits)}`);
  });

  afterAll(async () => {
    delete process.env.HANGAR_LEAK_CANARY;
    if (driver) for (const h of await driver.list()) await driver.stop(h.sessionId, { graceMs: 0 });
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (testRoot) fs.rmSync(testRoot, { recursive: true, force: true });
  });

  it("launches a running sandbox with a recorded, start-time-checked pid", () => {
    expect(main).toMatchObject({
      state: "running",
      driver: "local",
      isolation: "namespaces",
      sessionId: "main",
    });
    expect(alive(main.pid)).toBe(true);
    const record = JSON.parse(fs.readFileSync(sessionPaths(main.sessionDir).state, "utf8"));
    expect(record.pidStart).toBe(readProcStat(main.pid)?.startTime);
    expect(record.initStart).toBe(readProcStat(main.initPid!)?.startTime);
    expect(fs.statSync(sessionPaths(main.sessionDir).state).mode & 0o077).toBe(0);
    for (const dir of ["home", "workspace", "tmp", "run"]) {
      expect(fs.statSync(path.join(main.sessionDir, dir)).isDirectory()).toBe(true);
    }
  });

  it("runs as uid 1000 with no capabilities and no_new_privs, under the hostname 'sandbox'", async () => {
    const r = await sh(
      "main",
      "id -u; id -g; grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status; " +
        "grep -E '^(CapEff|CapBnd)' /proc/2/status; cat /proc/sys/kernel/hostname",
    );
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("1000");
    expect(lines[1]).toBe("1000");
    expect(r.stdout).toMatch(/CapEff:\s+0000000000000000\n/);
    expect(r.stdout).toMatch(/CapPrm:\s+0000000000000000\n/);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1\n/);
    // The main process (pid 2 inside) also has an empty bounding set.
    expect(r.stdout).toMatch(/CapBnd:\s+0000000000000000\n/);
    expect(lines.at(-1)).toBe("sandbox");
    const mount = await sh("main", "mount -o remount,rw / 2>&1; echo rc=$?");
    expect(mount.stdout).not.toMatch(/rc=0/);
  });

  it.skipIf(!seccompSupported())(
    "runs every process under the seccomp filter: the main tree, exec'd and spawned programs",
    async () => {
      // ptrace(PTRACE_TRACEME) is harmless where allowed; under the filter it fails with EPERM.
      const probe =
        "grep -E '^Seccomp:' /proc/2/status /proc/self/status | sed 's/.*://'; " +
        `python3 -c 'import ctypes; l = ctypes.CDLL(None, use_errno=True); ` +
        `print("ptrace", l.ptrace(0, 0, 0, 0), ctypes.get_errno())'`;
      const r = await sh("main", probe);
      expect(r.stderr).toBe("");
      expect(r.stdout.split(/\s+/).filter(Boolean)).toEqual(["2", "2", "ptrace", "-1", "1"]);
      const child = driver.spawn("main", ["/bin/sh", "-c", "grep -E '^Seccomp:' /proc/self/status"]);
      let out = "";
      child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      await new Promise((resolve) => child.once("close", resolve));
      expect(out).toMatch(/^Seccomp:\s+2$/m);
    },
  );

  it("sees only its own processes in /proc", async () => {
    const r = await sh("main", "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done");
    const inside = r.stdout.trim().split("\n");
    const hostCount = fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n)).length;
    expect(inside.length).toBeLessThanOrEqual(10);
    expect(hostCount).toBeGreaterThan(inside.length);
    expect(r.stdout).not.toContain("vitest");
    expect(r.stdout).toContain("hello-log"); // the main command is there
  });

  it("hides the data folder, /root, /etc/shadow and sibling sessions, and shows the rest read-only", async () => {
    const read = async (file: string) => sh("main", `cat ${file}`);
    // Control: the same probe on a path that is not hidden succeeds.
    expect((await read(path.join(testRoot, "visible/control.txt"))).stdout).toBe("control-visible");
    expect(fs.readFileSync(path.join(testRoot, "data/canary.txt"), "utf8")).toBe(canary);

    const data = await read(path.join(testRoot, "data/canary.txt"));
    expect(data.exitCode).not.toBe(0);
    expect(data.stdout).not.toContain(canary);
    const sibling = await read(path.join(root, "other/workspace/secret.txt"));
    expect(sibling.exitCode).not.toBe(0);
    expect(sibling.stdout).not.toContain("sibling-secret");

    const listing = await sh("main", `ls -A /root ${path.join(testRoot, "data")} ${root} /run /home`);
    expect(listing.stdout).not.toMatch(/canary|\.bashrc|other|main/);
    expect(fs.readdirSync("/root").length).toBeGreaterThan(0);
    expect(listing.stdout).toMatch(/\/run:\nhangar\n/);
    expect(listing.stdout).toMatch(/\/home:\nagent\n/);

    if (fs.existsSync("/etc/shadow")) {
      expect(fs.readFileSync("/etc/shadow", "utf8").length).toBeGreaterThan(0);
      expect((await read("/etc/shadow")).stdout).toBe("");
    }
  });

  it("cannot write outside home, workspace and tmp; can write inside them", async () => {
    const denied = [
      "/etc/hangar-probe",
      "/usr/hangar-probe",
      "/hangar-probe",
      "/var/hangar-probe",
      "/opt/hangar-probe",
      "/root/hangar-probe",
      "/home/hangar-probe",
      "/run/hangar-probe",
      "/run/hangar/hangar-probe",
      path.join(testRoot, "visible/hangar-probe"),
      path.join(root, "main/run/hangar-probe"),
    ];
    for (const target of denied) {
      const r = await driver.exec("main", ["/bin/sh", "-c", 'echo x > "$1"', "probe", target]);
      expect(r.exitCode, target).not.toBe(0);
      expect(fs.existsSync(target), target).toBe(false);
    }
    const r = await sh(
      "main",
      "echo w > /home/agent/workspace/out.txt && mkdir -p /home/agent/.config && echo h > /home/agent/.config/h " +
        "&& echo t > /tmp/t.txt && echo rel > rel.txt",
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(main.sessionDir, "workspace/out.txt"), "utf8")).toBe("w\n");
    expect(fs.readFileSync(path.join(main.sessionDir, "workspace/rel.txt"), "utf8")).toBe("rel\n");
    expect(fs.readFileSync(path.join(main.sessionDir, "home/.config/h"), "utf8")).toBe("h\n");
    expect(fs.readFileSync(path.join(main.sessionDir, "tmp/t.txt"), "utf8")).toBe("t\n");
  });

  it("has exactly the spec's environment; nothing leaks from the server", async () => {
    expect(process.env.HANGAR_LEAK_CANARY).toBe(canary);
    const environ = await sh("main", "tr '\\0' '\\n' < /proc/2/environ");
    const mainEnv = Object.fromEntries(
      environ.stdout
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    // bwrap sets PWD for the directory it starts in; the driver adds HOME, and tells the main process
    // (alone) where its status fd is.
    expect(mainEnv).toEqual({
      ...mainSpec.env,
      HOME: "/home/agent",
      PWD: "/home/agent/workspace",
      HANGAR_STATUS_FD: String(STATUS_FD),
    });
    const exec = await driver.exec("main", ["/usr/bin/env"], { env: { EXTRA: "1" } });
    expect(exec.stdout).not.toContain(canary);
    expect(exec.stdout.trim().split("\n").sort()).toEqual(
      ["EXTRA=1", "HOME=/home/agent", "LANG=C.UTF-8", `PATH=${DEFAULT_PATH}`, "SESSION_MARK=main"].sort(),
    );
  });

  it("has only a loopback interface: host TCP and the metadata address are unreachable", async () => {
    const dev = await sh("main", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
    expect(dev.stdout.trim().split("\n")).toEqual(["lo"]);
    // Control: the host server answers on the host's loopback.
    expect(await (await fetch(`http://127.0.0.1:${hostTcpPort}/`)).text()).toBe("host-tcp");
    const tcp = await driver.exec("main", ["curl", "-sS", "-m", "3", `http://127.0.0.1:${hostTcpPort}/`]);
    expect(tcp.exitCode).not.toBe(0);
    expect(tcp.stdout).not.toContain("host-tcp");
    const metadata = await driver.exec("main", ["curl", "-sS", "-m", "3", "http://169.254.169.254/"]);
    expect(metadata.exitCode).not.toBe(0);
    expect(metadata.stderr).toMatch(/Failed to connect|unreachable|Couldn't connect/i);
  });

  it("forward bridges reach Unix sockets on the host (a single bound file, and run/listen/)", async () => {
    const a = await driver.exec("main", ["curl", "-sS", "-m", "3", "http://127.0.0.1:4010/v1/models"]);
    expect(a).toMatchObject({ exitCode: 0, stdout: "egress:/v1/models" });
    const b = await driver.exec("main", ["curl", "-sS", "-m", "3", "http://127.0.0.1:4011/chat"]);
    expect(b).toMatchObject({ exitCode: 0, stdout: "llm:/chat" });
    // Only the bound socket file is visible, not the folder around it.
    const around = await sh("main", `ls -A /run/hangar/bridge; ls ${path.join(testRoot, "gw")} 2>&1`);
    expect(around.stdout).toMatch(/^0\.sock\n/);
  });

  it("a reverse bridge reaches a server inside the sandbox from the host", async () => {
    const socketPath = path.join(root, "main/run/tunnels/harness.sock");
    const body = await until(() => getViaSocket(socketPath));
    expect(body).toBe("inside uid=1000");
  });

  it("run/listen/ is read-only inside: its sockets cannot be removed, replaced or chmod'ed", async () => {
    const listener = path.join(root, "main/run/listen/llm.sock");
    for (const attack of [
      "rm -f /run/hangar/listen/llm.sock",
      "mv /run/hangar/listen/llm.sock /run/hangar/listen/x.sock",
      "chmod 000 /run/hangar/listen/llm.sock",
      "ln -sf /etc/passwd /run/hangar/listen/llm.sock",
      "touch /run/hangar/listen/new",
    ]) {
      const r = await sh("main", `${attack} 2>&1; echo rc=$?`);
      expect(r.stdout, attack).toMatch(/Read-only file system[\s\S]*rc=1/);
    }
    expect(fs.lstatSync(listener).isSocket()).toBe(true);
    expect(fs.readdirSync(path.join(root, "main/run/listen"))).toEqual(["llm.sock"]);
    const b = await driver.exec("main", ["curl", "-sS", "-m", "3", "http://127.0.0.1:4011/still"]);
    expect(b).toMatchObject({ exitCode: 0, stdout: "llm:/still" });
  });

  it("a symlink planted for the reverse bridge leads the host nowhere; a missing link is refused", async () => {
    // A host-only socket the sandbox would like the host to carry requests to.
    const hits: string[] = [];
    const canary = http.createServer((req, res) => {
      hits.push(req.url ?? "");
      res.end("canary");
    });
    const canaryPath = path.join(testRoot, "gw", "canary.sock");
    await listen(canary, canaryPath);
    servers.push(canary);
    const swap = await sh(
      "main",
      `rm -f /run/hangar/sock/harness.sock && ln -s ${canaryPath} /run/hangar/sock/harness.sock && echo swapped`,
    );
    expect(swap.stdout).toContain("swapped");
    const tunnel = path.join(root, "main/run/tunnels/harness.sock");
    // The link taken at launch still reaches the sandbox's own server (socat keeps the socket bound).
    expect(await getViaSocket(tunnel)).toBe("inside uid=1000");
    await driver.openTunnels("main"); // idempotent: the link is there
    expect(await getViaSocket(tunnel)).toBe("inside uid=1000");
    // Were the link ever missing, the symlink is not taken.
    fs.rmSync(tunnel);
    await expect(driver.openTunnels("main")).rejects.toMatchObject({ code: "invalid_spec" });
    await expect(driver.openTunnels("main")).rejects.toThrow(/not a socket/);
    expect(fs.existsSync(tunnel)).toBe(false);
    expect(hits).toEqual([]);
  });

  it("the main process gets its stdin from the launch and its status fd; nothing else inherits them", async () => {
    const spec: LaunchSpec = {
      sessionId: "channels",
      sessionDir: path.join(root, "channels"),
      argv: [
        "/bin/sh",
        "-c",
        'cat > /home/agent/got-stdin; echo \'{"type":"phase","phase":"x"}\' >&"$HANGAR_STATUS_FD"; exec sleep 300',
      ],
      env: { PATH: DEFAULT_PATH },
      stdin: "spec-on-stdin-" + canary,
    };
    const h = await driver.launch(spec);
    const paths = sessionPaths(h.sessionDir);
    await until(() => (fs.existsSync(paths.status) && fs.statSync(paths.status).size > 0 ? true : undefined));
    expect(fs.readFileSync(path.join(paths.home, "got-stdin"), "utf8")).toBe(spec.stdin);
    expect(fs.readFileSync(paths.status, "utf8")).toBe('{"type":"phase","phase":"x"}\n');
    // The spec was never on this host's disk.
    expect(fs.readFileSync(paths.state, "utf8")).not.toContain(canary);
    const fds = await sh("channels", "ls /proc/self/fd; env");
    expect(fds.stdout.split("\n")).not.toContain(String(STATUS_FD));
    expect(fds.stdout).not.toContain("HANGAR_STATUS_FD");
    // The private tmpfs: memory-backed, 0700, writable; the status file is not under any visible path.
    const priv = await sh(
      "channels",
      "grep ' /run/hangar/private ' /proc/mounts; stat -c %a /run/hangar/private; touch /run/hangar/private/w && echo w-ok",
    );
    expect(priv.stdout).toMatch(/^tmpfs \/run\/hangar\/private tmpfs rw,.*size=16384k,mode=700/);
    expect(priv.stdout).toContain("700\nw-ok");
    await driver.stop("channels", { graceMs: 0 });
  });

  it("refuses a forward bridge listening in the sandbox-writable run/sock/", async () => {
    fs.mkdirSync(path.join(root, "sockbridge/run/sock"), { recursive: true });
    const server = http.createServer((_q, r) => r.end());
    await listen(server, path.join(root, "sockbridge/run/sock/x.sock"));
    servers.push(server);
    await expect(
      driver.launch({
        sessionId: "sockbridge",
        sessionDir: path.join(root, "sockbridge"),
        argv: ["true"],
        env: {},
        bridges: [{ port: 4010, socketPath: path.join(root, "sockbridge/run/sock/x.sock") }],
      }),
    ).rejects.toThrow(/sandbox-writable/);
  });

  it("captures stdout and stderr in run/sandbox.log", async () => {
    const text = await until(() => {
      const t = fs.readFileSync(main.logPath, "utf8");
      return t.includes("hello-log") && t.includes("hello-err") ? t : undefined;
    });
    expect(text).toContain("hello-log");
  });

  it("rotates run/sandbox.log past the size cap", async () => {
    const small = new LocalDriver({ root, logMaxBytes: 32 * 1024, logCheckMs: 50 });
    const h = await small.launch({
      sessionId: "chatty",
      sessionDir: path.join(root, "chatty"),
      argv: [
        "/bin/sh",
        "-c",
        "i=0; while [ $i -lt 3000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; exec sleep 300",
      ],
      env: { PATH: DEFAULT_PATH },
    });
    await until(() => (fs.existsSync(`${h.logPath}.1`) ? true : undefined));
    await until(() => (fs.statSync(h.logPath).size <= 32 * 1024 ? true : undefined));
    await small.stop("chatty", { graceMs: 0 });
  });

  describe("resource caps", () => {
    const alloc = (mib: number) => `python3 -c "b = b'x' * (${mib} * 1024 * 1024); print('allocated')"`;
    const forks = (n: number) =>
      `i=0; while [ $i -lt ${n} ]; do sleep 2 >/dev/null 2>&1 & i=$((i+1)); done; echo all-started`;

    it("stops a large allocation and a fork loop, and applies nofile (cgroups when writable)", async (ctx) => {
      const h = await driver.launch({
        sessionId: "capped",
        sessionDir: path.join(root, "capped"),
        argv: ["sleep", "300"],
        env: { PATH: DEFAULT_PATH },
        limits: { memoryMiB: 96, pids: 24, nofile: 123 },
      });
      console.log(`resource caps applied with: ${h.limits.mechanism} ${JSON.stringify(h.limits)}`);
      if (h.limits.mechanism === "none") ctx.skip("neither cgroups nor rlimits could be applied");
      expect((await sh("capped", "ulimit -n")).stdout.trim()).toBe("123");
      // Controls: a small allocation and a few forks work.
      expect((await sh("capped", alloc(8))).stdout).toContain("allocated");
      expect((await sh("capped", forks(4))).stdout).toContain("all-started");
      const big = await sh("capped", alloc(400));
      expect(big.stdout).not.toContain("allocated");
      expect(big.exitCode).not.toBe(0);
      if (h.limits.pids === undefined) {
        console.warn(`pids cap not enforced here: ${h.limits.notes.join("; ")}`);
      } else {
        const bomb = await sh("capped", forks(60));
        expect(bomb.stdout).not.toContain("all-started");
      }
      if (h.limits.mechanism.startsWith("cgroup")) {
        const record = JSON.parse(fs.readFileSync(sessionPaths(h.sessionDir).state, "utf8"));
        expect(record.cgroups.length).toBeGreaterThan(0);
        await driver.stop("capped", { graceMs: 0 });
        for (const dir of record.cgroups) expect(fs.existsSync(dir), dir).toBe(false);
      }
    });

    it("falls back to rlimits when cgroups are off, and says what it cannot enforce", async () => {
      const d = new LocalDriver({ root, cgroups: "off" });
      const h = await d.launch({
        sessionId: "rlimited",
        sessionDir: path.join(root, "rlimited"),
        argv: ["sleep", "300"],
        env: { PATH: DEFAULT_PATH },
        limits: { memoryMiB: 256, pids: 50, nofile: 77 },
      });
      expect(h.limits.mechanism).toBe("rlimit");
      if (process.getuid?.() === 0) expect(h.limits.notes.join(" ")).toMatch(/RLIMIT_NPROC/);
      expect((await sh("rlimited", "ulimit -n; ulimit -d", d)).stdout.trim().split("\n")).toEqual([
        "77",
        String(256 * 1024),
      ]);
      expect((await sh("rlimited", alloc(8), d)).stdout).toContain("allocated");
      const big = await sh("rlimited", alloc(400), d);
      expect(big.stdout).not.toContain("allocated");
      expect(big.stderr).toMatch(/MemoryError/);
      // Node still starts under the cap (it would not under RLIMIT_AS).
      expect((await d.exec("rlimited", ["node", "-e", "console.log('node-ok')"])).stdout).toBe("node-ok\n");
      await d.stop("rlimited", { graceMs: 0 });
    });
  });

  describe("lifecycle", () => {
    it("launching twice returns the same sandbox, also concurrently", async () => {
      const spec: LaunchSpec = {
        sessionId: "twice",
        sessionDir: path.join(root, "twice"),
        argv: ["sleep", "300"],
        env: {},
      };
      const [a, b] = await Promise.all([driver.launch(spec), driver.launch(spec)]);
      const c = await driver.launch(spec);
      expect(a.pid).toBe(b.pid);
      expect(c.pid).toBe(a.pid);
      expect(c.initPid).toBe(a.initPid);
      expect(processesOf(spec.sessionDir).filter((p) => readProcStat(p)?.ppid === process.pid)).toEqual([
        a.pid,
      ]);
    });

    it("stop kills the whole tree, including detached exec'd children; stopping twice is fine", async () => {
      const h = await driver.launch({
        sessionId: "tree",
        sessionDir: path.join(root, "tree"),
        argv: ["/bin/sh", "-c", "sleep 300 & sleep 300 & wait"],
        env: { PATH: DEFAULT_PATH },
        limits: { pids: 64 },
      });
      const bg = await sh("tree", "setsid sleep 301 >/dev/null 2>&1 </dev/null & echo started");
      expect(bg.stdout).toContain("started");
      const pidNs = fs.readlinkSync(`/proc/${h.initPid}/ns/pid`);
      const before = processesOf(h.sessionDir, pidNs);
      // supervisor, two bwraps, sh, two sleeps, the detached sleep
      expect(before.length).toBeGreaterThanOrEqual(7);
      expect(before).toEqual(expect.arrayContaining([h.pid, h.initPid]));

      await driver.stop("tree");
      for (const pid of before) expect(alive(pid), `pid ${pid}`).toBe(false);
      expect(processesOf(h.sessionDir, pidNs)).toEqual([]);
      expect(await driver.status("tree")).toMatchObject({ state: "exited" });
      await driver.stop("tree");
      await expect(driver.exec("tree", ["true"])).rejects.toMatchObject({ code: "not_running" });
      // "removes nothing unless asked"
      expect(fs.existsSync(path.join(h.sessionDir, "workspace"))).toBe(true);
      await driver.stop("tree", { removeDir: true });
      expect(fs.existsSync(h.sessionDir)).toBe(false);
    });

    it("stop sends SIGTERM first and lets the program finish within the grace period", async () => {
      const h = await driver.launch({
        sessionId: "graceful",
        sessionDir: path.join(root, "graceful"),
        argv: [
          "/bin/sh",
          "-c",
          'trap "echo bye > /home/agent/workspace/term.txt; exit 0" TERM; : > /home/agent/workspace/trapped; while :; do sleep 0.05; done',
        ],
        env: { PATH: DEFAULT_PATH },
      });
      // SIGTERM before the shell has set its trap would just end it: wait until it has.
      const trapped = path.join(h.sessionDir, "workspace", "trapped");
      for (let i = 0; i < 200 && !fs.existsSync(trapped); i++) await new Promise((r) => setTimeout(r, 25));
      await driver.stop("graceful", { graceMs: 3000 });
      expect(fs.readFileSync(path.join(h.sessionDir, "workspace/term.txt"), "utf8")).toBe("bye\n");
      expect(await driver.status("graceful")).toMatchObject({ state: "exited", exitCode: 0 });
    });

    it("a new driver instance adopts a running sandbox and sees it exit when killed externally", async () => {
      const h = await driver.launch({
        sessionId: "adopt",
        sessionDir: path.join(root, "adopt"),
        argv: ["sleep", "300"],
        env: { PATH: DEFAULT_PATH },
      });
      const restarted = new LocalDriver({ root });
      const listed = (await restarted.list()).find((x) => x.sessionId === "adopt");
      expect(listed).toMatchObject({ state: "running", pid: h.pid, initPid: h.initPid });
      expect((await restarted.exec("adopt", ["id", "-u"])).stdout.trim()).toBe("1000");

      process.kill(h.pid, "SIGKILL"); // the supervisor; bwrap dies with its parent
      const exited = await until(async () => {
        const s = await restarted.status("adopt");
        return s?.state === "exited" ? s : undefined;
      });
      expect(exited.exitedAt).toBeDefined();
      await until(() => (processesOf(h.sessionDir).length === 0 ? true : undefined));
    });

    it("does not adopt or kill a recorded pid that now belongs to another process", async () => {
      const dir = path.join(root, "reused");
      const h = await driver.launch({
        sessionId: "reused",
        sessionDir: dir,
        argv: ["sleep", "300"],
        env: {},
      });
      await driver.stop("reused", { graceMs: 0 });
      // Point the record at a live process (this test worker) with a different start time.
      const file = sessionPaths(dir).state;
      const record = JSON.parse(fs.readFileSync(file, "utf8"));
      delete record.exitedAt;
      const wrongStart = readProcStat(process.pid)!.startTime + 1;
      Object.assign(record, {
        pid: process.pid,
        pidStart: wrongStart,
        initPid: process.pid,
        initStart: wrongStart,
      });
      fs.writeFileSync(file, JSON.stringify(record));
      expect(await new LocalDriver({ root }).status("reused")).toMatchObject({ state: "exited" });
      await new LocalDriver({ root }).stop("reused");
      expect(alive(process.pid)).toBe(true);
      expect(h.pid).not.toBe(process.pid);
    });

    it("rejects a forward bridge whose socket does not exist", async () => {
      await expect(
        driver.launch({
          sessionId: "nobridge",
          sessionDir: path.join(root, "nobridge"),
          argv: ["true"],
          env: {},
          bridges: [{ port: 4010, socketPath: path.join(testRoot, "gw/missing.sock") }],
        }),
      ).rejects.toThrow(/does not exist/);
    });

    it("fails the launch, with the log, when a bridge does not come up", async () => {
      const broken = new LocalDriver({ root, binaries: { socat: "/bin/false" } });
      const err = await broken
        .launch({
          sessionId: "nobridge2",
          sessionDir: path.join(root, "nobridge2"),
          argv: ["sleep", "300"],
          env: {},
          bridges: [{ port: 4010, socketPath: path.join(root, "nobridge2/run/listen/x.sock") }],
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SandboxError);
      expect((err as SandboxError).code).toBe("launch_failed");
      expect((err as Error).message).toMatch(/hangar: a bridge exited/);
      expect(processesOf(path.join(root, "nobridge2"))).toEqual([]);
      expect(await broken.status("nobridge2")).toMatchObject({ state: "exited", exitCode: 97 });

      // A real socat that cannot listen: ports below 1024 need a capability the sandbox lacks.
      const low = await driver
        .launch({
          sessionId: "lowport",
          sessionDir: path.join(root, "lowport"),
          argv: ["sleep", "300"],
          env: {},
          bridges: [{ port: 80, socketPath: path.join(root, "lowport/run/listen/x.sock") }],
        })
        .catch((e: unknown) => e);
      expect((low as SandboxError).code).toBe("launch_failed");
      expect((low as Error).message).toMatch(/Permission denied/);
    });

    it("rejects specs outside its root or with bad ids", async () => {
      await expect(
        driver.launch({ sessionId: "x", sessionDir: path.join(testRoot, "x"), argv: ["true"], env: {} }),
      ).rejects.toThrow(/driver root/);
      await expect(
        driver.launch({ sessionId: "../x", sessionDir: path.join(root, "x"), argv: ["true"], env: {} }),
      ).rejects.toThrow(/session id/);
      expect(await driver.status("never-launched")).toBeNull();
      await driver.stop("never-launched");
    });
  });
});

describe("rotateLog", () => {
  it("copies the log to .1 and truncates it once it passes the cap", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-rotate-test-"));
    try {
      const file = path.join(dir, "sandbox.log");
      fs.writeFileSync(file, "a".repeat(100));
      expect(rotateLog(file, 200)).toBe(false);
      fs.appendFileSync(file, "b".repeat(150));
      expect(rotateLog(file, 200)).toBe(true);
      expect(fs.statSync(file).size).toBe(0);
      expect(fs.readFileSync(`${file}.1`, "utf8")).toBe("a".repeat(100) + "b".repeat(150));
      expect(rotateLog(path.join(dir, "missing.log"), 1)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
