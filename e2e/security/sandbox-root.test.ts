/*
 * The sandbox's root is an allow-list, not the host's root with holes. Inside the user namespace the
 * sandbox's uid is the host uid running Hangar (root here), so any host file that is mounted at all is
 * readable from it. The test plants root-only (0600) canaries where services keep their secrets (/opt,
 * /var/lib, systemd EnvironmentFiles in /etc and /etc/default, /srv, /root, /home, /boot, /mnt, /run,
 * the host's /tmp, Hangar's data folder and install) and hunts for them from a real session's
 * sandbox, as a hostile agent's shell would: cat, find, ls, /proc/<pid>/root and open-fd tricks. A
 * control file in the workspace shows each hunt finds what is there, so a mount that came back would
 * fail the test rather than pass it vacuously.
 */
import fs from "node:fs";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { installedHarnessBinaries } from "@/lib/harness";
import { LocalDriver } from "@/lib/sandbox/drivers/local";
import { seccompSupported } from "@/lib/sandbox/seccomp";

import { inSandbox, readySession } from "../support/sandbox";
import { startServer, type TestServer } from "../support/server";

const ID = crypto.randomUUID().slice(0, 8);
const NAME = `hangar-canary-${ID}`;
const SECRET = `root-only-secret-${crypto.randomUUID()}`;
const isRoot = process.getuid?.() === 0;

let hangar: TestServer;
let sessionId = "";
/** Canary files and the folders made for them (removed in afterAll), host paths. */
const canaries: string[] = [];
const madeDirs: string[] = [];

const inside = (script: string, timeoutMs?: number) => inSandbox(hangar, sessionId, script, timeoutMs);

/** A root-only file holding the secret; a folder of its own where the parent is shared. */
function plant(file: string) {
  const dir = path.dirname(file);
  if (!fs.existsSync(path.dirname(dir))) return;
  if (path.basename(dir).startsWith(NAME)) {
    fs.mkdirSync(dir, { mode: 0o700 });
    madeDirs.push(dir);
  } else if (!fs.existsSync(dir)) {
    return;
  }
  fs.writeFileSync(file, `${SECRET} ${file}\n`, { mode: 0o600 });
  canaries.push(file);
}

/** No output of the attacker's may carry a canary's content. */
function expectNoSecret(out: { stdout: string; stderr: string }, what: string) {
  expect(out.stdout, what).not.toContain(SECRET);
  expect(out.stderr, what).not.toContain(SECRET);
}

describe.skipIf(!isRoot)("the sandbox root is an allow-list (as root: canaries need root to plant)", () => {
  let control = "";

  beforeAll(async () => {
    hangar = await startServer({});
    sessionId = await readySession(hangar);
    for (const file of [
      `/opt/${NAME}/secret`,
      `/var/lib/${NAME}/secret`,
      `/etc/${NAME}.env`,
      `/etc/default/${NAME}`,
      `/etc/ssl/private/${NAME}.key`,
      `/srv/${NAME}/secret`,
      `/root/${NAME}`,
      `/home/${NAME}/secret`,
      `/boot/${NAME}`,
      `/mnt/${NAME}`,
      `/media/${NAME}`,
      `/var/backups/${NAME}`,
      `/var/tmp/${NAME}`,
      `/run/${NAME}`,
      `/tmp/${NAME}`,
      path.join(hangar.dataDir, NAME),
      path.join(hangar.dataDir, "sessions", NAME),
      // Hangar's install: the sandbox sees its bootstrap and harness binaries, not the rest.
      path.join(process.cwd(), "node_modules", NAME),
    ]) {
      plant(file);
    }
    // The control: visible to the sandbox (its own workspace), found by the same hunts.
    control = path.join(hangar.dataDir, "sessions", sessionId, "workspace", `${NAME}-control`);
    fs.writeFileSync(control, "control\n");
  }, 180_000);

  afterAll(async () => {
    for (const file of canaries) fs.rmSync(file, { force: true });
    for (const dir of madeDirs) fs.rmSync(dir, { recursive: true, force: true });
    await hangar?.stop();
  });

  it("planted canaries outside every allowed folder (controls: they exist and hold the secret)", () => {
    expect(canaries.length).toBeGreaterThanOrEqual(12);
    for (const file of canaries) {
      expect(fs.readFileSync(file, "utf8"), file).toContain(SECRET);
      expect(fs.statSync(file).mode & 0o077, file).toBe(0);
    }
  });

  it("cat, ls and find turn up nothing of the host; the workspace control is found", async () => {
    const list = canaries.map((f) => `'${f}'`).join(" ");
    // The folder each canary sits in, or above the folder made for it (whose name gives it away).
    const parents = [...new Set(canaries.map((f) => path.dirname(f)))]
      .map((d) => (madeDirs.includes(d) ? path.dirname(d) : d))
      .map((d) => `'${d}'`)
      .join(" ");
    const cat = await inside(`for f in ${list}; do cat "$f"; done 2>&1; echo end`);
    expectNoSecret(cat, "cat");
    expect(cat.stdout).toMatch(/No such file or directory[\s\S]*end/);

    const ls = await inside(`ls -la / ${parents} /var /etc 2>&1`);
    expectNoSecret(ls, "ls");
    expect(ls.stdout).not.toContain(NAME);

    const find = await inside(`find / -name '${NAME}*' 2>/dev/null; echo end`, 120_000);
    expect(find.stdout.trim().split("\n")).toEqual([`/home/agent/workspace/${NAME}-control`, "end"]);
    const grep = await inside(`grep -rl '${SECRET}' /etc /run /var /home /tmp 2>/dev/null; echo end`);
    expect(grep.stdout.trim()).toBe("end");
  }, 180_000);

  it("/proc/<pid>/root, /proc/<pid>/cwd and open fds lead nowhere but the sandbox", async () => {
    const list = canaries.map((f) => `'${f}'`).join(" ");
    const r = await inside(`
      for f in ${list}; do
        for p in /proc/1/root /proc/self/root /proc/[0-9]*/root /proc/[0-9]*/cwd/..; do cat "$p$f"; done
        cat "/dev/fd/../root$f" "/dev/stdin/../../root$f"
      done 2>/dev/null
      # Every open fd of every process: a folder fd from the host would be a way out.
      for fd in /proc/[0-9]*/fd/*; do
        t=$(readlink "$fd" 2>/dev/null) || continue
        echo "fd $fd -> $t"
        [ -d "$fd" ] && find "$fd/" -maxdepth 4 -name '${NAME}*' 2>/dev/null
      done
      readlink /proc/1/root /proc/self/root
      echo end`);
    expectNoSecret(r, "proc");
    const found = r.stdout.split("\n").filter((l) => l.includes(NAME) && !l.startsWith("fd "));
    expect(found).toEqual([]);
    expect(r.stdout).toMatch(/^\/\n\/\nend\n$/m);
    // No fd points at a host folder (the supervisor's run/ files stay outside).
    const fds = r.stdout.split("\n").filter((l) => l.startsWith("fd "));
    expect(fds.length).toBeGreaterThan(0);
    for (const line of fds) expect(line, line).not.toMatch(/-> \/(opt|srv|root|boot|mnt|var\/lib)\b/);
  }, 120_000);

  it("mounts nothing under /opt, /var, /srv, /root, /boot, /mnt, /media, other homes or the host's /run", async () => {
    const r = await inside("cut -d' ' -f5 /proc/self/mountinfo");
    const points = r.stdout.trim().split("\n");
    expect(points).toContain("/");
    expect(points).toContain("/usr");
    // Hangar's own read-only paths (bootstrap, harness binaries) sit wherever it is installed.
    const install = (p: string) => p.startsWith(process.cwd() + "/");
    for (const p of points.filter((p) => !install(p))) {
      const bad =
        /^\/(opt|srv|root|boot|mnt|media)(\/|$)/.test(p) ||
        (/^\/var(\/|$)/.test(p) && p !== "/var/tmp") ||
        (/^\/home(\/|$)/.test(p) && !/^\/home\/agent(\/|$)/.test(p)) ||
        (/^\/run(\/|$)/.test(p) && !/^\/run\/hangar(\/|$)/.test(p));
      expect(bad, p).toBe(false);
    }
    // /etc is the allow-list: no shadow, no ssh keys, no EnvironmentFiles, no private TLS keys.
    const etc = await inside(
      "for f in /etc/shadow /etc/gshadow /etc/ssh /etc/ssl/private /etc/default /etc/kubernetes " +
        "/etc/environment /etc/machine-id; do [ -e $f ] && echo present $f; done; " +
        "cat /etc/passwd; echo end",
    );
    expect(etc.stdout).not.toContain("present");
    expect(etc.stdout).toContain("agent:x:1000:1000:agent:/home/agent:");
    // The host's own users are not listed (a generated passwd: root, agent, nobody).
    expect(etc.stdout.split("\n").filter((l) => l.includes(":x:")).length).toBe(3);
  });

  it("cannot write outside home, workspace, tmp and the private tmpfs (EROFS); can write inside them", async () => {
    const probe = `hangar-probe-${ID}`;
    const attempts = [
      ...["/", "/etc", "/usr", "/usr/local/bin", "/bin", "/var", "/run", "/run/hangar", "/home", "/dev"]
        .concat(["/etc/ssl/certs"])
        .map((d) => `touch '${path.posix.join(d, probe)}'`),
      ...["/opt", "/srv", "/root", "/var/lib", "/boot", "/mnt"].map((d) => `mkdir '${d}'`),
      ...["/etc/passwd", "/etc/hosts", "/etc/resolv.conf", "/usr/bin/env"].map(
        (f) => `sh -c 'echo x >> ${f}'`,
      ),
    ];
    const r = await inside(
      `attempt() { if out=$(sh -c "$1" 2>&1); then echo "ALLOWED $1"; else echo "DENIED $1 :: $out"; fi; }\n` +
        attempts.map((a) => `attempt "${a}"`).join("\n"),
    );
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(attempts.length);
    for (const line of lines) expect(line).toMatch(/^DENIED .* :: .*Read-only file system/);
    for (const d of ["/", "/etc", "/usr", "/var", "/run", "/home", "/dev", "/opt", "/srv", "/mnt"]) {
      expect(fs.existsSync(path.join(d, probe)), d).toBe(false);
    }

    const ok = await inside(
      ["/home/agent", "/home/agent/workspace", "/tmp", "/var/tmp", "/run/hangar/private", "/dev/shm"]
        .map((d) => `echo w > '${d}/${probe}' && echo "wrote ${d}" && rm '${d}/${probe}'`)
        .join("\n"),
    );
    expect(ok.stdout.trim().split("\n")).toHaveLength(6);
  });

  it.skipIf(!seccompSupported())(
    "every process of the session (harness, bootstrap, this shell) runs under the seccomp filter",
    async () => {
      // pid 1 is bwrap's own init, which execs nothing of the agent's.
      const out = await inside(
        // A process that ended meanwhile (one of this loop's own) has no status left: skipped.
        "for s in /proc/[0-9]*/status; do [ $s = /proc/1/status ] && continue; " +
          "n=$(grep ^Name: $s 2>/dev/null | cut -f2); m=$(grep ^Seccomp: $s 2>/dev/null | cut -f2); " +
          '[ -n "$n" ] && echo "$n $m"; done; true',
      );
      const rows = out.stdout.trim().split("\n");
      expect(rows.length, out.stdout).toBeGreaterThan(3);
      for (const row of rows) expect(row, out.stdout).toMatch(/ 2$/);
      // PTRACE_TRACEME always succeeds without the filter; with it, ptrace is refused (EPERM).
      const peek = await inside(
        "python3 -c 'import ctypes; l = ctypes.CDLL(None, use_errno=True); print(l.ptrace(0, 0, 0, 0), ctypes.get_errno())'",
      );
      expect(peek.stdout.trim(), peek.stderr).toBe("-1 1");
    },
  );

  it("what agents use still works inside: git, a venv with pip, node, socat, bash -l, TLS roots, harnesses", async () => {
    const r = await inside(
      [
        "set -e",
        "cd /tmp && git init -q -b main src && git -C src -c user.email=a@b -c user.name=a commit -q --allow-empty -m x",
        "git clone -q src dst && git -C dst log --oneline | wc -l",
        "python3 -m venv /tmp/venv && /tmp/venv/bin/pip --version",
        `node -e 'console.log(require("os").userInfo().username, require("tls").rootCertificates.length > 0)'`,
        `python3 -c 'import ssl; print("py-ca", len(ssl.create_default_context().get_ca_certs()) > 0)'`,
        "socat -V | head -1",
        "bash -lc 'echo login $(whoami) $HOME $(hostname)'",
        "echo done",
      ].join("\n"),
      120_000,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^1$/m);
    expect(r.stdout).toMatch(/^pip \d+/m);
    expect(r.stdout).toContain("agent true");
    expect(r.stdout).toContain("py-ca True");
    expect(r.stdout).toMatch(/socat by/);
    expect(r.stdout).toContain("login agent /home/agent sandbox");

    // The harness binaries (claude serves both Claude harnesses).
    const binaries = Object.entries(installedHarnessBinaries());
    for (const [name, file] of binaries) {
      if (!file) {
        console.warn(`harness binary ${name} is not installed: its --version is not checked`);
        continue;
      }
      const v = await inside(`'${file}' --version`);
      expect(v.exitCode, `${name}: ${v.stderr}`).toBe(0);
      expect(v.stdout, name).toMatch(/\d+\.\d+/);
    }
  }, 180_000);
});

/*
 * Hangar run as a dedicated unprivileged user: the local driver still launches, confines and stops a
 * sandbox (no cgroup to write: rlimits instead), and the sandbox's uid is that user on the host, so
 * even a root-only file inside a path it is shown stays unreadable. A root-launched control sandbox
 * reads the same file, so the difference is the user and nothing else.
 */
const NOBODY = 65534;
const RUNNER = `
import fs from "node:fs";
import path from "node:path";
import { LocalDriver } from ${JSON.stringify(path.join(process.cwd(), "lib/sandbox/drivers/local.ts"))};

const [root, shown, secret] = process.argv.slice(2);
const driver = new LocalDriver({ root });
const out = { uid: process.getuid(), preflight: await driver.preflight() };
const handle = await driver.launch({
  sessionId: "unprivileged",
  sessionDir: path.join(root, "unprivileged"),
  argv: ["sleep", "300"],
  env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
  limits: { memoryMiB: 512, pids: 128, nofile: 256 },
  readOnlyPaths: [shown],
});
const sh = (script) => driver.exec("unprivileged", ["sh", "-c", script], { timeoutMs: 60_000 });
out.limits = handle.limits;
out.id = await sh("id -u");
out.secret = await sh("cat " + secret);
out.tools = await sh("python3 -m venv /tmp/v && /tmp/v/bin/pip --version && node -e 'console.log(6 * 7)' && git --version");
out.write = await sh("touch /x 2>&1; touch /home/agent/ok && echo home-ok");
out.createdBy = fs.statSync(path.join(root, "unprivileged", "home", "ok")).uid;
await driver.stop("unprivileged", { graceMs: 0 });
out.after = (await driver.status("unprivileged"))?.state;
console.log("RESULT " + JSON.stringify(out));
process.exit(0);
`;

describe("Hangar as an unprivileged user", () => {
  const uid = process.getuid?.() ?? 0;
  let dir = "";

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // As root, the test runs Hangar's own install as uid 65534: that needs the checkout to be readable
  // by others (a clone under `mktemp -d`, mode 0700, is not; nor is a real install for that user).
  const installReadable = () => {
    if (uid !== 0) return true;
    for (let at = process.cwd(); ; at = path.dirname(at)) {
      if ((fs.statSync(at).mode & 0o005) !== 0o005) return false;
      if (path.dirname(at) === at) return true;
    }
  };

  it.skipIf(!installReadable())(
    "launches, confines and stops a sandbox whose uid is that user's on the host",
    async () => {
      const { execFileSync } = await import("node:child_process");
      dir = fs.mkdtempSync("/tmp/hangar-unprivileged-");
      fs.chmodSync(dir, 0o755);
      const shown = path.join(dir, "shown");
      const secret = path.join(shown, "root-only");
      fs.mkdirSync(shown, { mode: 0o755 });
      fs.writeFileSync(secret, `${SECRET} unprivileged\n`, { mode: 0o600 });
      const root = path.join(dir, "sessions");
      fs.mkdirSync(root, { mode: 0o700 });
      const script = path.join(dir, "runner.mts");
      fs.writeFileSync(script, RUNNER, { mode: 0o644 });

      // As root, a throwaway uid (nobody's) owns the sandbox root; as anyone else, this test already is one.
      const asUser =
        uid === 0 ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--"] : [];
      if (uid === 0) fs.chownSync(root, NOBODY, NOBODY);
      const output = execFileSync(
        asUser[0] ?? process.execPath,
        [...asUser.slice(1), ...(asUser.length > 0 ? [process.execPath] : [])].concat([
          "--import",
          "tsx",
          script,
          root,
          shown,
          secret,
        ]),
        {
          cwd: process.cwd(),
          env: { PATH: process.env.PATH, HOME: dir, NODE_ENV: "production" },
          encoding: "utf8",
          timeout: 180_000,
        },
      );
      const line = output.split("\n").find((l) => l.startsWith("RESULT "));
      expect(line, output).toBeDefined();
      const out = JSON.parse(line!.slice("RESULT ".length));
      const me = uid === 0 ? NOBODY : uid;
      expect(out.uid).toBe(me);
      expect(out.preflight.ok, JSON.stringify(out.preflight)).toBe(true);
      expect(out.preflight.notes.join(" ")).toContain(`running as uid ${me}`);
      // Inside: uid 1000, which is this unprivileged user outside (it owns what the sandbox writes).
      expect(out.id).toMatchObject({ exitCode: 0, stdout: "1000\n" });
      expect(out.createdBy).toBe(me);
      expect(out.secret.exitCode).not.toBe(0);
      expect(out.secret.stderr).toMatch(/Permission denied/);
      expect(out.secret.stdout + out.secret.stderr).not.toContain(SECRET);
      expect(out.tools.exitCode, out.tools.stderr).toBe(0);
      expect(out.tools.stdout).toMatch(/^pip \d+[\s\S]*^42$[\s\S]*^git version/m);
      expect(out.write.stdout).toMatch(/Read-only file system[\s\S]*home-ok/);
      expect(out.after).toBe("exited");
      if (uid === 0) {
        // No cgroup of its own to write: limits fall back to rlimits, pids included (not root).
        expect(out.limits.mechanism).toBe("rlimit");
        expect(out.limits.pids).toBe(128);
      }

      // Control: the same sandbox launched by root reads the file, which is why Hangar should not be root.
      if (uid === 0) {
        const driver = new LocalDriver({ root: path.join(dir, "as-root") });
        await driver.launch({
          sessionId: "as-root",
          sessionDir: path.join(dir, "as-root", "as-root"),
          argv: ["sleep", "300"],
          env: {},
          readOnlyPaths: [shown],
        });
        try {
          const r = await driver.exec("as-root", ["cat", secret]);
          expect(r.stdout).toContain(SECRET);
        } finally {
          await driver.stop("as-root", { graceMs: 0 });
        }
      }
    },
    240_000,
  );
});
