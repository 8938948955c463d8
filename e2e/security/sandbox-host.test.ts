/*
 * The host never trusts a path, socket or status line the sandbox controls, and the session's secrets
 * live only in memory. Every attack runs as the attacker would: from inside a real local-driver
 * sandbox of a real Hangar (a shell exec'd into it, like `?terminal=shell`), and each check asserts
 * that nothing reached the attacker or moved the host, with canaries where something could leak.
 *
 * "Remote" hosts are loopback servers named through HANGAR_TEST_HOSTS: a package index for pip that
 * holds its answer until the test lets go (so a boot waits in installing_deps, where a package's own
 * code would run), and a git server over HTTPS (its CA delivered as a sandbox file) that wants a token.
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { LocalDriver } from "@/lib/sandbox/drivers/local";

import { callServer } from "../support/api";
import { startServer, tempDir, waitForExit, type TestServer } from "../support/server";

const TOKEN = "git-token-canary-" + crypto.randomUUID();
const ENV_CANARY = "session-env-canary-" + crypto.randomUUID();
const HOSTS = "index.test=127.0.0.1,git.test=127.0.0.1";

let hangar: TestServer;
let index: http.Server;
let indexPort = 0;
let git: https.Server;
let caPem = "";
let gitPort = 0;
let work: string;

const call = (method: string, p: string, body?: unknown) => callServer(hangar, method, p, body);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sessionDir = (id: string) => path.join(hangar.dataDir, "sessions", id);

// ---------------------------------------------------------------------------------------------------
// The package index: /simple/<name>/ waits until release(name), then links a wheel.

const held = new Map<string, { hit: boolean; release: () => void; released: Promise<void> }>();
const wheels = new Map<string, Buffer>();

function gate(name: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const entry = { hit: false, release, released };
  held.set(name, entry);
  return entry;
}

function makeWheel(name: string): Buffer {
  const mod = name.replaceAll("-", "_");
  const file = path.join(work, `${mod}-1.0-py3-none-any.whl`);
  execFileSync("python3", [
    "-c",
    `import zipfile
z = zipfile.ZipFile(${JSON.stringify(file)}, "w")
z.writestr("${mod}/__init__.py", "VALUE = 1\\n")
z.writestr("${mod}-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: ${name}\\nVersion: 1.0\\n")
z.writestr("${mod}-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nGenerator: hand\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
z.writestr("${mod}-1.0.dist-info/RECORD", "")
z.close()`,
  ]);
  return fs.readFileSync(file);
}

async function serveIndex(req: http.IncomingMessage, res: http.ServerResponse) {
  const url = req.url ?? "/";
  const page = /^\/simple\/([a-z0-9-]+)\/$/.exec(url);
  if (page) {
    const name = page[1]!;
    const entry = held.get(name);
    if (entry) {
      entry.hit = true;
      await entry.released;
    }
    const file = `${name.replaceAll("-", "_")}-1.0-py3-none-any.whl`;
    if (!wheels.has(file)) wheels.set(file, makeWheel(name));
    res.writeHead(200, { "content-type": "text/html" }).end(`<a href="/files/${file}">${file}</a>`);
    return;
  }
  const wheel = wheels.get(url.replace(/^\/files\//, ""));
  if (wheel) res.writeHead(200).end(wheel);
  else res.writeHead(404).end();
}

const requirements = (name: string) =>
  `--index-url http://index.test:${indexPort}/simple/\n--trusted-host index.test\n${name}==1.0\n`;

// ---------------------------------------------------------------------------------------------------
// Sessions and the attacker's shell

async function createSession(agentFields: Record<string, unknown>, body: Record<string, unknown> = {}) {
  const agent = await call("POST", "/api/v1/managed_agents/agents", {
    model: "m/x",
    harness_id: "claude-agent-sdk",
    ...agentFields,
  });
  expect(agent.status, agent.text).toBe(201);
  const created = await call("POST", `/api/v1/managed_agents/agents/${agent.body.id}/session`, body);
  expect(created.status, created.text).toBe(201);
  return created.body.id as string;
}

async function waitFor(id: string, done: (s: any) => boolean, ms = 90_000): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = (await call("GET", `/api/v1/managed_agents/sessions/${id}`)).body;
    if (done(s)) return s;
    if (s.status === "failed" || s.status === "dead" || Date.now() > deadline)
      throw new Error(`session ${id}: ${JSON.stringify(s)}`);
    await sleep(50);
  }
}

/** Waits until the boot is held at pip's index request: the sandbox runs, the harness does not. */
async function heldAtPip(id: string, entry: { hit: boolean }) {
  await waitFor(id, (s) => s.phase === "installing_deps");
  for (let i = 0; !entry.hit; i++) {
    if (i > 600) throw new Error("pip never asked the index");
    await sleep(50);
  }
}

function inside(id: string, script: string, stdin?: string, timeoutMs = 60_000) {
  const driver = new LocalDriver({ root: path.join(hangar.dataDir, "sessions") });
  return driver.exec(id, ["sh", "-c", script], { timeoutMs, stdin });
}

/** The server answers its health check, and fast. */
async function healthy() {
  const t0 = Date.now();
  const res = await fetch(`${hangar.url}/api/v1/health`, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  expect(Date.now() - t0).toBeLessThan(1000);
}

/** Kills Hangar with SIGKILL (its sandboxes keep running) and starts it again on the same data. */
async function restartHangar() {
  hangar.proc.kill("SIGKILL");
  await waitForExit(hangar.proc);
  hangar = await startServer({
    dataDir: hangar.dataDir,
    masterKey: hangar.masterKey,
    env: { HANGAR_TEST_HOSTS: HOSTS },
  });
}

/** Writes the given status lines into every status fd a process of the sandbox holds. */
const FORGE = (lines: object[]) => `
n=0
for fd in /proc/[0-9]*/fd/*; do
  case "$(readlink "$fd" 2>/dev/null)" in
    *status.jsonl) printf '%s\\n' ${lines.map((l) => `'${JSON.stringify(l)}'`).join(" ")} >> "$fd" && n=$((n+1));;
  esac
done
echo "forged into $n fds"`;

/** Polls for a while: the session's status must stay `status` the whole time. */
async function stays(id: string, status: string, ms = 1500) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const s = (await call("GET", `/api/v1/managed_agents/sessions/${id}`)).body;
    expect(s.status, JSON.stringify(s)).toBe(status);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------------

/** A bare repository served over HTTPS ("dumb" git protocol), behind Basic auth with the token. */
function makeRepo(dir: string) {
  const src = path.join(dir, "src");
  const bare = path.join(dir, "srv", "repo.git");
  const run = (args: string[], cwd: string) => execFileSync("git", args, { cwd, stdio: "pipe" });
  fs.mkdirSync(src, { recursive: true });
  run(["init", "-q", "-b", "main"], src);
  fs.writeFileSync(path.join(src, "README.md"), "hello from the repo\n");
  run(["-c", "user.email=t@t", "-c", "user.name=t", "add", "."], src);
  run(["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"], src);
  run(["clone", "-q", "--bare", src, bare], dir);
  run(["update-server-info"], bare);
  return path.join(dir, "srv");
}

beforeAll(async () => {
  work = tempDir("sandbox-host");
  index = http.createServer((req, res) => void serveIndex(req, res));
  await new Promise<void>((r) => index.listen(0, "127.0.0.1", r));
  indexPort = (index.address() as AddressInfo).port;
  const root = makeRepo(work);
  const expected = "Basic " + Buffer.from(`x-access-token:${TOKEN}`).toString("base64");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=git.test"].concat([
      "-addext",
      "subjectAltName=DNS:git.test",
      "-keyout",
      path.join(work, "key.pem"),
      "-out",
      path.join(work, "cert.pem"),
    ]),
    { stdio: "pipe" },
  );
  caPem = fs.readFileSync(path.join(work, "cert.pem"), "utf8");
  const tls = { key: fs.readFileSync(path.join(work, "key.pem")), cert: caPem };
  git = https.createServer(tls, (req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="git"' }).end();
      return;
    }
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(fs.readFileSync(file));
  });
  await new Promise<void>((r) => git.listen(0, "127.0.0.1", r));
  gitPort = (git.address() as AddressInfo).port;
  hangar = await startServer({ env: { HANGAR_TEST_HOSTS: HOSTS } });
}, 120_000);

afterAll(async () => {
  for (const entry of held.values()) entry.release();
  await hangar?.stop();
  index?.close();
  git?.close();
});

describe("paths the sandbox controls", () => {
  it("a FIFO, /dev/zero, /etc/shadow or a 1 GB file at any path the host once read stalls nothing; the session still boots", async () => {
    const entry = gate("hangar-traps");
    const id = await createSession({ requirements: requirements("hangar-traps"), allow_out: ["index.test"] });
    await heldAtPip(id, entry);
    // The old status, spec and env file paths, and the sandbox-writable socket folder.
    const targets = [
      "~/.hangar/status.jsonl",
      "~/.hangar/boot.json",
      "~/.hangar/env.sh",
      "/run/hangar/sock/harness.sock",
      "/run/hangar/sock/egress.sock",
      "/run/hangar/sock/model.sock",
    ];
    const traps = [
      (t: string) => `mkfifo ${t}`,
      (t: string) => `ln -s /dev/zero ${t}`,
      (t: string) => `ln -s /etc/shadow ${t}`,
      (t: string) => `truncate -s 1G /tmp/big && ln -s /tmp/big ${t}`,
      (t: string) => `truncate -s 1G ${t}`,
    ];
    for (const trap of traps) {
      const plant = await inside(
        id,
        `mkdir -p ~/.hangar; for t in ${targets.join(" ")}; do rm -f "$t"; done; ` +
          targets.map((t) => trap(t)).join(" && ") +
          " && echo planted",
      );
      expect(plant.stdout, plant.stderr).toContain("planted");
      // The old watcher opened the status path every 25 ms: give the host many chances to trip.
      for (let i = 0; i < 4; i++) {
        await sleep(150);
        await healthy();
      }
    }
    entry.release();
    const ready = await waitFor(id, (s) => s.status === "ready");
    expect(ready.failure_reason).toBeNull();
    await healthy();

    // A Hangar restart adopts it with the traps in place (and ~/.hangar a link to a host-only folder
    // the host must not write through).
    const hostOnly = path.join(work, "host-only");
    fs.mkdirSync(hostOnly);
    const link = await inside(id, `rm -rf ~/.hangar && ln -s ${hostOnly} ~/.hangar && echo linked`);
    expect(link.stdout).toContain("linked");
    await restartHangar();
    await healthy();
    expect((await call("GET", `/api/v1/managed_agents/sessions/${id}`)).body.status).toBe("ready");
    await sleep(500);
    await healthy();
    expect(fs.readdirSync(hostOnly)).toEqual([]);
    await call("DELETE", `/api/v1/managed_agents/sessions/${id}`);
  }, 180_000);
});

describe("status lines are hints", () => {
  it.each(["claude-agent-sdk", "opencode"])(
    "%s: forged ready/failed/exited lines neither make a booting session ready nor a running one failed",
    async (harness) => {
      const name = `hangar-forge-${harness.replace(/[^a-z]/g, "")}`;
      const entry = gate(name);
      const id = await createSession({
        harness_id: harness,
        requirements: requirements(name),
        allow_out: ["index.test"],
      });
      await heldAtPip(id, entry);
      // Through the status fd of the bootstrap itself (/proc/<pid>/fd/*), as pip's build code could.
      const forged = await inside(
        id,
        FORGE([
          { type: "ready" },
          { type: "phase", phase: "ready" },
          { type: "failed", phase: "boot", reason: "forged failure" },
          { type: "exited", code: 0 },
          { type: "ready" },
        ]),
      );
      expect(forged.stdout).toMatch(/forged into [1-9]\d* fds/);
      // The forged lines did reach the host's status file: the host read them and stayed put.
      const statusFile = path.join(sessionDir(id), "run", "status.jsonl");
      expect(fs.readFileSync(statusFile, "utf8")).toContain("forged failure");
      await stays(id, "creating");
      const waiting = (await call("GET", `/api/v1/managed_agents/sessions/${id}`)).body;
      expect(waiting.phase).toBe("installing_deps");

      entry.release();
      const ready = await waitFor(id, (s) => s.status === "ready");
      expect(ready.failure_reason).toBeNull();
      const log = (await call("GET", `/api/v1/managed_agents/sessions/${id}/log`)).body.data as {
        type: string;
        data: { phase?: string; status?: string };
      }[];
      const started = log.findIndex((e) => e.type === "phase" && e.data.phase === "starting_harness");
      const readyAt = log.findIndex((e) => e.type === "status" && e.data.status === "ready");
      expect(started).toBeGreaterThan(-1);
      expect(readyAt).toBeGreaterThan(started);

      const again = await inside(
        id,
        FORGE([
          { type: "failed", phase: "boot", reason: "forged failure" },
          { type: "exited", code: 1 },
        ]),
      );
      expect(again.stdout).toMatch(/forged into [1-9]\d* fds/);
      await stays(id, "ready");
      await call("DELETE", `/api/v1/managed_agents/sessions/${id}`);
    },
    180_000,
  );
});

describe("sockets", () => {
  it("Hangar's listeners cannot be touched; a symlink swapped in for the harness socket leads the host nowhere", async () => {
    // A host-only socket the attacker would like Hangar to carry the harness password to.
    const seen: string[] = [];
    const canaryPath = path.join(work, "canary.sock");
    const canary = net.createServer((conn) => {
      seen.push("connection");
      conn.on("data", (d) => seen.push(d.toString()));
      conn.end("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\ncanary");
    });
    await new Promise<void>((r) => canary.listen(canaryPath, r));
    try {
      const id = await createSession({ harness_id: "opencode" });
      await waitFor(id, (s) => s.status === "ready");
      const listen = path.join(sessionDir(id), "run", "listen");

      for (const attack of [
        "rm -f /run/hangar/listen/egress.sock",
        "mv /run/hangar/listen/model.sock /run/hangar/listen/m.sock",
        "chmod 777 /run/hangar/listen/egress.sock",
        "ln -sf /run/hangar/sock /run/hangar/listen/model.sock",
        "mkfifo /run/hangar/listen/x.sock",
      ]) {
        const r = await inside(id, `${attack} 2>&1; echo rc=$?`);
        expect(r.stdout, attack).toMatch(/Read-only file system[\s\S]*rc=1/);
      }
      expect(fs.readdirSync(listen).sort()).toEqual(["egress.sock", "model.sock"]);
      for (const name of ["egress.sock", "model.sock"]) {
        const stat = fs.lstatSync(path.join(listen, name));
        expect(stat.isSocket()).toBe(true);
        expect(stat.mode & 0o777).not.toBe(0o777);
      }

      const swap = await inside(
        id,
        `rm -f /run/hangar/sock/harness.sock && ln -s ${canaryPath} /run/hangar/sock/harness.sock && echo swapped`,
      );
      expect(swap.stdout).toContain("swapped");
      const proxied = async () => {
        const res = await call("GET", `/api/v1/managed_agents/sessions/${id}/opencode/global/health`);
        expect(res.status, res.text).toBe(200);
        expect(res.text).not.toContain("canary");
      };
      await proxied();
      const message = await call("POST", `/api/v1/managed_agents/sessions/${id}/message`, { text: "hi" });
      expect(message.status, message.text).toBeLessThan(300);
      // After a restart (adoption) the host keeps to the link it took when the sandbox started.
      await restartHangar();
      expect((await call("GET", `/api/v1/managed_agents/sessions/${id}`)).body.status).toBe("ready");
      await proxied();
      expect(seen).toEqual([]);

      // Had the host lost that link, it would not take the symlink: the session fails, clearly.
      fs.rmSync(path.join(sessionDir(id), "run", "tunnels", "harness.sock"));
      await restartHangar();
      const failed = (await call("GET", `/api/v1/managed_agents/sessions/${id}`)).body;
      expect(failed.status).toBe("failed");
      expect(failed.failure_reason).toMatch(/harness\.sock is not a socket/);
      expect(seen).toEqual([]);
    } finally {
      canary.close();
    }
  }, 240_000);
});

describe("secrets only in memory", () => {
  /** Finds the needles (JSON on stdin) in every process's environ, cmdline and writable memory. */
  const SCAN = String.raw`
import json, os, sys
needles = [n.encode() for n in json.load(sys.stdin)]
found = {n.decode(): [] for n in needles}
regions = 0
me = str(os.getpid())
PAGE = os.sysconf("SC_PAGE_SIZE")
HELD = (1 << 63) | (1 << 62)  # pagemap: present in RAM, or swapped out

def resident_runs(pagemap, start, end):
    """The [start, end) runs of a region whose pages are held (present or swapped), by pagemap;
    a region small enough is read whole. Blocks of pagemap that are all zero are skipped at C speed."""
    if end - start <= 64 << 20:
        return [(start, end)]
    runs, step = [], 8192  # pages per pagemap read: 64 KiB of entries
    for first in range(start // PAGE, end // PAGE, step):
        count = min(step, end // PAGE - first)
        try:
            pagemap.seek(first * 8)
            block = pagemap.read(count * 8)
        except (OSError, ValueError, OverflowError):
            return [(start, end)]
        if block.count(0) == len(block):
            continue
        for i, entry in enumerate(memoryview(block).cast("Q")):
            if entry & HELD:
                page = (first + i) * PAGE
                if runs and runs[-1][1] == page:
                    runs[-1][1] = page + PAGE
                else:
                    runs.append([page, page + PAGE])
    return runs

for pid in sorted(p for p in os.listdir("/proc") if p.isdigit() and p != me):
    for kind in ("environ", "cmdline"):
        try:
            data = open(f"/proc/{pid}/{kind}", "rb").read()
        except OSError:
            continue
        for n in needles:
            if n in data:
                found[n.decode()].append(f"{pid}:{kind}")
    try:
        smaps = open(f"/proc/{pid}/smaps").read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", 0)
        pagemap = open(f"/proc/{pid}/pagemap", "rb", 0)
    except OSError:
        continue
    # Regions with their resident size: pages never touched hold nothing (and runtimes such as Bun
    # reserve gigabytes they never touch, which would take minutes to read as zeros).
    regions_rss, current = [], None
    for line in smaps:
        head = line.split()
        if "-" in head[0] and len(head) >= 5:
            current = [head[0], head[1], 0]
            regions_rss.append(current)
        elif head[0] == "Rss:" and current is not None:
            current[2] = int(head[1])
    for addr, perms, rss in regions_rss:
        # Data a process holds at run time sits in writable pages (heap, stacks, anonymous maps);
        # read-only mappings are files on disk, which the grep of the data folder covers.
        if not perms.startswith("rw") or rss == 0:
            continue
        start, end = (int(x, 16) for x in addr.split("-"))
        for run_start, run_end in resident_runs(pagemap, start, end):
            pos, tail = run_start, b""
            while pos < run_end:
                size = min(run_end - pos, 8 << 20)
                try:
                    mem.seek(pos)
                    chunk = mem.read(size)
                except (OSError, ValueError, OverflowError):
                    break
                regions += 1
                data = tail + chunk
                for n in needles:
                    if n in data and f"{pid}:mem" not in found[n.decode()]:
                        found[n.decode()].append(f"{pid}:mem")
                tail = chunk[-256:]
                pos += size
print(json.dumps({"found": found, "regions": regions}))
`;

  it.each(["claude-agent-sdk", "opencode"])(
    "%s: no secret on the host's disk, and GIT_TOKEN in no sandbox process once booted",
    async (harness) => {
      const id = await createSession(
        {
          harness_id: harness,
          repo_url: `https://git.test:${gitPort}/repo.git`,
          branch: "main",
          allow_out: ["git.test"],
          sandbox_files: [
            {
              name: "ca",
              sandbox_path: "~/ca.pem",
              content: Buffer.from(caPem).toString("base64"),
              size: Buffer.byteLength(caPem),
            },
          ],
          env_vars: { GIT_SSL_CAINFO: "/home/agent/ca.pem" },
        },
        { env_vars: { GIT_TOKEN: TOKEN, SESSION_CANARY: ENV_CANARY } },
      );
      const ready = await waitFor(id, (s) => s.status === "ready");
      expect(ready.failure_reason).toBeNull();
      expect((await inside(id, "cat README.md")).stdout).toContain("hello from the repo");

      // The whole data folder (sessions, database, logs) holds neither value while the session runs.
      for (const canary of [TOKEN, ENV_CANARY]) {
        const grep = spawnSync("grep", ["-rlaF", canary, hangar.dataDir], { encoding: "utf8" });
        expect(grep.stdout, canary).toBe("");
      }

      // The environment file is in the private tmpfs, with the session's values but no token.
      const envFile = await inside(
        id,
        "grep ' /run/hangar/private ' /proc/mounts; cat /run/hangar/private/env.sh; ls -a ~/.hangar 2>&1",
      );
      expect(envFile.stdout).toMatch(/^tmpfs \/run\/hangar\/private tmpfs /);
      expect(envFile.stdout).toContain(`SESSION_CANARY='${ENV_CANARY}'`);
      expect(envFile.stdout).not.toContain(TOKEN);
      expect(envFile.stdout).toMatch(/No such file/);

      // The prepare stage, which held the spec and the token, is gone; the main bootstrap never had them.
      const record = JSON.parse(fs.readFileSync(path.join(sessionDir(id), "run", "sandbox.json"), "utf8"));
      const boots = fs
        .readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return fs.readlinkSync(`/proc/${p}/ns/pid`) === record.pidNamespace;
          } catch {
            return false;
          }
        })
        .map((p) => ({ pid: p, cmd: fs.readFileSync(`/proc/${p}/cmdline`, "utf8") }))
        // bwrap's own command line names the bootstrap too: only node processes count.
        .filter((p) => p.cmd.split("\0")[0] === process.execPath && p.cmd.includes("boot.mjs"));
      expect(boots.length).toBe(1);
      expect(boots[0]!.cmd).not.toContain("prepare");
      for (const file of ["environ", "cmdline"]) {
        const text = fs.readFileSync(`/proc/${boots[0]!.pid}/${file}`, "utf8");
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(ENV_CANARY);
      }

      // What the harness can read: every process's environ, cmdline and memory, from inside. (Its
      // exit code is 137 if the exec timed out.)
      const scan = await inside(
        id,
        `python3 -c '${SCAN.replaceAll("'", "'\\''")}'`,
        JSON.stringify([TOKEN, ENV_CANARY]),
        150_000,
      );
      expect(scan.exitCode, scan.stderr).toBe(0);
      const result = JSON.parse(scan.stdout) as { found: Record<string, string[]>; regions: number };
      expect(result.regions).toBeGreaterThan(10);
      // Control: the scan does find what the harness is meant to have.
      expect(result.found[ENV_CANARY]!.some((where) => where.endsWith(":mem"))).toBe(true);
      expect(result.found[TOKEN]).toEqual([]);
      await call("DELETE", `/api/v1/managed_agents/sessions/${id}`);
    },
    180_000,
  );
});
