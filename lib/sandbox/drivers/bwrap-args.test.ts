import { describe, expect, it } from "vitest";

import {
  buildBwrapArgs,
  buildEntryScript,
  normaliseHidden,
  procNetTcpListen,
  sandboxEnv,
  sandboxEtcFiles,
  shellQuote,
  type BwrapPlan,
  type HostRoot,
} from "./bwrap-args";

const plan = (over: Partial<BwrapPlan> = {}): BwrapPlan => ({
  sessionDir: "/srv/hangar/sessions/s1",
  argv: ["node", "server.js"],
  env: { PATH: "/usr/bin:/bin", HOME: "/home/agent", TOKEN: "t0k" },
  hide: [],
  readOnly: [],
  socketBinds: [],
  ...over,
});

/** Each `--flag a b` occurrence as [a, b], for flags that take two arguments. */
function pairs(args: string[], flag: string): [string, string][] {
  const out: [string, string][] = [];
  args.forEach((a, i) => a === flag && out.push([args[i + 1]!, args[i + 2]!]));
  return out;
}

function singles(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

/** A host that is not merged-/usr: real /bin and /lib64, a few /etc entries, node under /opt. */
const host: HostRoot = {
  dirs: ["/usr", "/bin", "/lib64"],
  links: [{ path: "/lib", target: "usr/lib" }],
  etc: ["ssl/certs", "ld.so.cache", "alternatives"],
  tools: ["/opt/node/bin"],
};

/** Where each mount, link, folder or tmpfs lands inside, in argv order. */
function targets(args: string[]): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (["--bind", "--ro-bind", "--symlink"].includes(a)) out.push(args[i + 2]!);
    if (["--tmpfs", "--dir", "--dev", "--proc"].includes(a)) out.push(args[i + 1]!);
  });
  return out;
}

describe("buildBwrapArgs", () => {
  it("always takes root's capabilities away with a user namespace, uid/gid 1000 and --disable-userns", () => {
    const args = buildBwrapArgs(plan());
    expect(args).toContain("--unshare-user");
    expect(singles(args, "--uid")).toEqual(["1000"]);
    expect(singles(args, "--gid")).toEqual(["1000"]);
    expect(args).toContain("--disable-userns");
    expect(singles(args, "--cap-drop")).toEqual(["ALL"]);
  });

  it("unshares pid, net, ipc and uts, names the host, dies with its parent and starts a new session", () => {
    const args = buildBwrapArgs(plan());
    for (const flag of ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]) {
      expect(args).toContain(flag);
    }
    expect(args).not.toContain("--share-net");
    expect(singles(args, "--hostname")).toEqual(["sandbox"]);
    expect(args).toContain("--die-with-parent");
    expect(args).toContain("--new-session");
  });

  it("clears the environment and sets exactly the given variables", () => {
    const args = buildBwrapArgs(plan());
    const clear = args.indexOf("--clearenv");
    expect(clear).toBeGreaterThan(-1);
    const set = pairs(args, "--setenv");
    expect(Object.fromEntries(set)).toEqual({ PATH: "/usr/bin:/bin", HOME: "/home/agent", TOKEN: "t0k" });
    expect(args.indexOf("--setenv")).toBeGreaterThan(clear);
    expect(args).not.toContain("--unsetenv");
  });

  it("starts from an empty root: system folders read-only, merged-/usr links recreated, no host /", () => {
    const args = buildBwrapArgs(plan({ root: host }));
    expect(targets(args)).not.toContain("/");
    expect(pairs(args, "--ro-bind").filter(([, t]) => ["/usr", "/bin", "/lib64"].includes(t))).toEqual([
      ["/usr", "/usr"],
      ["/bin", "/bin"],
      ["/lib64", "/lib64"],
    ]);
    expect(pairs(args, "--symlink")).toContainEqual(["usr/lib", "/lib"]);
    // Without a root in the plan: a merged-/usr host.
    const merged = buildBwrapArgs(plan());
    expect(pairs(merged, "--ro-bind")).toContainEqual(["/usr", "/usr"]);
    expect(pairs(merged, "--symlink")).toEqual(
      expect.arrayContaining([
        ["usr/bin", "/bin"],
        ["usr/sbin", "/sbin"],
        ["usr/lib", "/lib"],
        ["usr/lib64", "/lib64"],
      ]),
    );
  });

  it("mounts nothing of the host outside the allow-list", () => {
    const args = buildBwrapArgs(
      plan({
        root: host,
        readOnly: ["/srv/hangar/app/lib/sandbox/bootstrap"],
        etcFiles: { passwd: "/srv/hangar/sessions/s1/run/etc/passwd" },
        hide: [
          { path: "/opt/secrets", kind: "dir" },
          { path: "/var/lib/hangar", kind: "dir" },
          { path: "/root", kind: "dir" },
          { path: "/etc/shadow", kind: "file" },
        ],
        socketBinds: [{ hostPath: "/var/lib/hangar/gw/s1.sock", sandboxPath: "/run/hangar/bridge/0.sock" }],
      }),
    );
    const allowed = [
      ...["/usr", "/bin", "/lib", "/lib64", "/dev", "/proc", "/etc", "/tmp", "/var/tmp", "/home/agent"],
      ...["/run/hangar", "/opt/node/bin", "/srv/hangar/app/lib/sandbox/bootstrap"],
    ];
    for (const t of targets(args)) {
      expect(
        allowed.some((a) => t === a || t.startsWith(a + "/")),
        t,
      ).toBe(true);
    }
    // /etc holds the allowed entries and the generated files, nothing else of the host.
    expect(targets(args).filter((t) => t.startsWith("/etc/"))).toEqual([
      "/etc/ssl/certs",
      "/etc/ld.so.cache",
      "/etc/alternatives",
      "/etc/mtab",
      "/etc/passwd",
    ]);
    expect(pairs(args, "--ro-bind")).toContainEqual([
      "/srv/hangar/sessions/s1/run/etc/passwd",
      "/etc/passwd",
    ]);
    expect(pairs(args, "--symlink")).toContainEqual(["/proc/self/mounts", "/etc/mtab"]);
    // Hiding what is not there would only add empty folders to the root.
    expect(args).not.toContain("/var/lib/hangar");
    expect(args).not.toContain("/opt/secrets");
    expect(args).not.toContain("/root");
    expect(args).not.toContain("/etc/shadow");
  });

  it("remounts the root and /dev read-only after every mount; /dev/shm and the session's folders stay rw", () => {
    const args = buildBwrapArgs(
      plan({ root: host, binds: [{ source: "/var/lib/pods/p1/cache", target: "/cache" }] }),
    );
    const lastMount = Math.max(
      ...args.flatMap((a, i) =>
        ["--bind", "--ro-bind", "--tmpfs", "--symlink", "--dir", "--dev", "--proc"].includes(a) ? [i] : [],
      ),
    );
    const remounts = singles(args, "--remount-ro");
    expect(remounts.slice(-2)).toEqual(["/dev", "/"]);
    expect(args.indexOf("--remount-ro")).toBeGreaterThan(lastMount);
    for (const rw of ["/dev/shm", "/tmp", "/var/tmp", "/home/agent", "/cache"]) {
      expect(remounts, rw).not.toContain(rw);
    }
    const shm = args.indexOf("/dev/shm");
    expect(args.slice(shm - 3, shm + 1)).toEqual(["--perms", "1777", "--tmpfs", "/dev/shm"]);
    // The session's tmp/ is /tmp and /var/tmp: never the host's.
    expect(pairs(args, "--bind")).toContainEqual(["/srv/hangar/sessions/s1/tmp", "/var/tmp"]);
  });

  it("binds only the session's home, workspace, tmp and sock read-write", () => {
    const args = buildBwrapArgs(plan());
    expect(pairs(args, "--bind")).toEqual([
      ["/srv/hangar/sessions/s1/tmp", "/tmp"],
      ["/srv/hangar/sessions/s1/tmp", "/var/tmp"],
      ["/srv/hangar/sessions/s1/home", "/home/agent"],
      ["/srv/hangar/sessions/s1/workspace", "/home/agent/workspace"],
      ["/srv/hangar/sessions/s1/run/sock", "/run/hangar/sock"],
    ]);
    expect(pairs(args, "--ro-bind")).toContainEqual([
      "/srv/hangar/sessions/s1/run/entry.sh",
      "/run/hangar/entry.sh",
    ]);
    expect(singles(args, "--chdir")).toEqual(["/home/agent/workspace"]);
    expect(args).toContain("--proc");
    expect(args).toContain("--dev");
  });

  it("hides paths inside what it shows with read-only tmpfs (folders) or /dev/null (files)", () => {
    const args = buildBwrapArgs(
      plan({
        root: { ...host, etc: ["ssl/certs", "gitconfig"] },
        hide: [
          { path: "/usr/local/hangar-data", kind: "dir" },
          { path: "/etc/gitconfig", kind: "file" },
          // Around a shown entry: covers it.
          { path: "/etc/ssl", kind: "dir" },
          { path: "/var/lib/hangar", kind: "dir" },
        ],
      }),
    );
    // The private tmpfs (see bwrap-run.test.ts) and /dev/shm stay writable.
    const tmpfs = singles(args, "--tmpfs").filter((t) => t !== "/run/hangar/private" && t !== "/dev/shm");
    expect(tmpfs.sort()).toEqual(["/etc/ssl", "/usr/local/hangar-data"]);
    expect(pairs(args, "--ro-bind")).toContainEqual(["/dev/null", "/etc/gitconfig"]);
    expect(singles(args, "--remount-ro").sort()).toEqual([...tmpfs, "/", "/dev"].sort());
    // Hiding comes after what it covers, and the read-only remounts after every mount below them.
    expect(args.indexOf("/usr/local/hangar-data")).toBeGreaterThan(args.indexOf("/usr"));
    expect(args.lastIndexOf("/etc/ssl")).toBeGreaterThan(args.lastIndexOf("/etc/ssl/certs"));
    expect(args.lastIndexOf("/etc/gitconfig")).toBeGreaterThan(args.indexOf("/etc/gitconfig"));
    const lastMount = Math.max(
      ...args.flatMap((a, i) => (a === "--bind" || a === "--ro-bind" || a === "--tmpfs" ? [i] : [])),
    );
    expect(args.indexOf("--remount-ro")).toBeGreaterThan(lastMount);
  });

  it("shows read-only paths (and node's folder) after /tmp, and re-hides what they uncover", () => {
    const args = buildBwrapArgs(
      plan({
        root: host,
        hide: [
          { path: "/srv", kind: "dir" },
          { path: "/srv/tools/secrets", kind: "dir" },
          { path: "/opt/node/bin/secret", kind: "file" },
        ],
        readOnly: ["/srv/tools"],
      }),
    );
    const at = (r: string) => args.findIndex((a, i) => a === "--ro-bind" && args[i + 1] === r);
    const tmp = args.indexOf("/tmp");
    expect(at("/srv/tools")).toBeGreaterThan(tmp);
    expect(at("/opt/node/bin")).toBeGreaterThan(tmp);
    // /srv is not in the root at all; what the read-only path shows of it is hidden again after it.
    expect(args).not.toContain("/srv");
    expect(args.indexOf("/srv/tools/secrets")).toBeGreaterThan(at("/srv/tools"));
    expect(pairs(args, "--ro-bind")).toContainEqual(["/dev/null", "/opt/node/bin/secret"]);
  });

  it("binds forward-bridge sockets as single read-only files and reports status on the given fd", () => {
    const args = buildBwrapArgs(
      plan({
        socketBinds: [{ hostPath: "/var/lib/hangar/gw/s1.sock", sandboxPath: "/run/hangar/bridge/0.sock" }],
        statusFd: 3,
      }),
    );
    expect(pairs(args, "--ro-bind")).toContainEqual([
      "/var/lib/hangar/gw/s1.sock",
      "/run/hangar/bridge/0.sock",
    ]);
    expect(singles(args, "--json-status-fd")).toEqual(["3"]);
  });

  it("runs the entry script with the command after --", () => {
    const args = buildBwrapArgs(plan());
    expect(args.slice(args.indexOf("--"))).toEqual([
      "--",
      "/bin/sh",
      "/run/hangar/entry.sh",
      "node",
      "server.js",
    ]);
  });

  it("binds extra host paths last (after hiding and read-only paths), read-write or read-only", () => {
    const args = buildBwrapArgs(
      plan({
        hide: [{ path: "/srv", kind: "dir" }],
        readOnly: ["/opt/tools"],
        binds: [
          { source: "/var/lib/pods/p1/cache", target: "/srv/cache/" },
          { source: "/var/lib/pods/p1/secret", target: "/etc/app-secret", readOnly: true },
        ],
      }),
    );
    expect(pairs(args, "--bind")).toContainEqual(["/var/lib/pods/p1/cache", "/srv/cache"]);
    expect(pairs(args, "--ro-bind")).toContainEqual(["/var/lib/pods/p1/secret", "/etc/app-secret"]);
    const cache = args.indexOf("/var/lib/pods/p1/cache");
    const secret = args.indexOf("/var/lib/pods/p1/secret");
    // After everything they may shadow, but before the hiding tmpfs mounts turn read-only.
    for (const earlier of ["/opt/tools", "/run/hangar/sock"]) {
      expect(args.lastIndexOf(earlier)).toBeLessThan(cache);
    }
    expect(args.indexOf("/run/hangar/entry.sh")).toBeLessThan(cache);
    expect(cache).toBeLessThan(secret);
    expect(secret).toBeLessThan(args.indexOf("--remount-ro"));
    expect(singles(args, "--chdir")).toEqual(["/home/agent/workspace"]);
    const overHome = buildBwrapArgs(
      plan({ binds: [{ source: "/var/lib/pods/p1/home", target: "/home/agent" }] }),
    );
    expect(singles(overHome, "--chdir")).toEqual(["/"]);
    expect(() => buildBwrapArgs(plan({ binds: [{ source: "rel", target: "/x" }] }))).toThrow(/absolute/);
    expect(() => buildBwrapArgs(plan({ binds: [{ source: "/x", target: "y" }] }))).toThrow(/absolute/);
    expect(() => buildBwrapArgs(plan({ binds: [{ source: "/x", target: "/" }] }))).toThrow(/root/);
  });

  it("rejects relative paths, hiding the root, and /etc names that leave /etc", () => {
    expect(() => buildBwrapArgs(plan({ hide: [{ path: "data", kind: "dir" }] }))).toThrow(/absolute/);
    expect(() => buildBwrapArgs(plan({ hide: [{ path: "/", kind: "dir" }] }))).toThrow(/root/);
    expect(() => buildBwrapArgs(plan({ readOnly: ["tools"] }))).toThrow(/absolute/);
    expect(() => buildBwrapArgs(plan({ root: { ...host, etc: ["../opt/x"] } }))).toThrow(/\/etc entry/);
    expect(() => buildBwrapArgs(plan({ etcFiles: { "../passwd": "/x" } }))).toThrow(/Invalid/);
    expect(() => buildBwrapArgs(plan({ etcFiles: { passwd: "x" } }))).toThrow(/absolute/);
  });
});

describe("normaliseHidden", () => {
  it("drops duplicates and children of hidden folders", () => {
    expect(
      normaliseHidden([
        { path: "/home/user/.hangar", kind: "dir" },
        { path: "/home", kind: "dir" },
        { path: "/home/", kind: "dir" },
        { path: "/tmp/hangar", kind: "dir" },
        { path: "/var/lib/hangar/../hangar", kind: "dir" },
        { path: "/etc/shadow", kind: "file" },
      ]),
    ).toEqual([
      { path: "/etc/shadow", kind: "file" },
      { path: "/home", kind: "dir" },
      { path: "/tmp/hangar", kind: "dir" },
      { path: "/var/lib/hangar", kind: "dir" },
    ]);
  });
});

describe("sandboxEtcFiles", () => {
  it("names the sandbox's own user, groups and hosts, and nothing of the host", () => {
    const files = sandboxEtcFiles("/bin/bash");
    expect(Object.keys(files).sort()).toEqual(["group", "hosts", "nsswitch.conf", "passwd", "resolv.conf"]);
    expect(files.passwd).toContain("agent:x:1000:1000:agent:/home/agent:/bin/bash\n");
    expect(
      files
        .passwd!.split("\n")
        .filter(Boolean)
        .map((l) => l.split(":")[0]),
    ).toEqual(["root", "agent", "nobody"]);
    expect(files.group).toContain("agent:x:1000:\n");
    expect(files.hosts).toMatch(/^127\.0\.0\.1 localhost sandbox\n/);
    // localhost is IPv4 only: the bridges listen on 127.0.0.1.
    expect(files.hosts).not.toMatch(/^::1.*\slocalhost(\s|$)/m);
    expect(files["nsswitch.conf"]).toMatch(/^passwd: files\n/);
  });
});

describe("sandboxEnv", () => {
  it("adds HOME and a default PATH, keeps the spec's PATH, and inherits nothing", () => {
    process.env.HANGAR_ENV_CANARY = "leak";
    try {
      expect(sandboxEnv({ A: "1" }, "/home/agent")).toEqual({
        A: "1",
        HOME: "/home/agent",
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      });
      expect(sandboxEnv({ PATH: "/x", HOME: "/elsewhere" }, "/home/agent")).toEqual({
        PATH: "/x",
        HOME: "/home/agent",
      });
    } finally {
      delete process.env.HANGAR_ENV_CANARY;
    }
  });

  it("rejects names a shell or env(1) would misread", () => {
    expect(() => sandboxEnv({ "A=B": "1" }, "/h")).toThrow(/Invalid/);
    expect(() => sandboxEnv({ "": "1" }, "/h")).toThrow(/Invalid/);
    expect(() => sandboxEnv({ A: "x\0y" }, "/h")).toThrow(/NUL/);
  });
});

describe("buildEntryScript", () => {
  it("starts forward and reverse socat bridges, waits for them, restores PATH and execs the command", () => {
    const script = buildEntryScript(
      {
        forward: [{ port: 4010, connect: "/run/hangar/bridge/0.sock" }],
        reverse: [{ listen: "/run/hangar/sock/opencode.sock", port: 4096 }],
      },
      "/usr/bin/socat",
    );
    expect(script).toContain(
      "/usr/bin/socat TCP-LISTEN:4010,bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:/run/hangar/bridge/0.sock </dev/null 4>&- &",
    );
    expect(script).toContain(
      "/usr/bin/socat UNIX-LISTEN:/run/hangar/sock/opencode.sock,fork,unlink-early,mode=600 TCP:127.0.0.1:4096 </dev/null 4>&- &",
    );
    expect(script).toContain(`grep -q '0100007F:0FAA 00000000:0000 0A' /proc/net/tcp`);
    expect(script).toContain("[ -S /run/hangar/sock/opencode.sock ]");
    expect(script.indexOf("PATH=$hangar_path")).toBeLessThan(script.indexOf('exec "$@"'));
    expect(script.trimEnd().endsWith('exec "$@"')).toBe(true);
  });

  it("just execs when there are no bridges", () => {
    expect(buildEntryScript({ forward: [], reverse: [] })).not.toContain("socat");
  });

  it("quotes paths with shell metacharacters", () => {
    const script = buildEntryScript({ forward: [{ port: 1, connect: "/a b/$(x).sock" }], reverse: [] });
    expect(script).toContain(`'UNIX-CONNECT:/a b/$(x).sock'`);
  });
});

describe("helpers", () => {
  it("procNetTcpListen matches /proc/net/tcp's hex notation", () => {
    expect(procNetTcpListen(80)).toBe("0100007F:0050 00000000:0000 0A");
  });

  it("shellQuote leaves plain words alone and single-quotes the rest", () => {
    expect(shellQuote("/usr/bin/socat")).toBe("/usr/bin/socat");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it("binds read-only paths after /tmp and home, so an install under /tmp stays visible", () => {
    const args = buildBwrapArgs(
      plan({ readOnly: ["/tmp/clone/lib/sandbox/bootstrap"], hide: [{ path: "/tmp/clone", kind: "dir" }] }),
    );
    const at = (flag: string, a: string, b: string) =>
      args.findIndex((x, i) => x === flag && args[i + 1] === a && args[i + 2] === b);
    const tmpBind = at("--bind", "/srv/hangar/sessions/s1/tmp", "/tmp");
    const install = at("--ro-bind", "/tmp/clone/lib/sandbox/bootstrap", "/tmp/clone/lib/sandbox/bootstrap");
    expect(tmpBind).toBeGreaterThan(-1);
    expect(install).toBeGreaterThan(tmpBind);
  });
});
