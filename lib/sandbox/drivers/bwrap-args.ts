import path from "node:path";

import { sessionPaths } from "../layout";
import { SANDBOX_PRIVATE } from "../types";

/*
 * Pure builders for the local drivers: the bubblewrap argv and the entry script that starts the
 * loopback bridges before the main command (the session dir layout is ../layout.ts). Nothing here touches the disk, so
 * every confinement flag can be unit-tested.
 *
 * The sandbox's root is an empty tmpfs (bwrap's own new root), read-only once every mount point is
 * made. What is in it is an allow-list: /usr and the top-level library and binary folders (recreated
 * as symlinks on merged-/usr hosts), a minimal /etc (a few world-readable host files plus a generated
 * passwd, group, hosts, resolv.conf and nsswitch.conf), /dev and /proc, the session's /tmp (also at
 * /var/tmp), home and workspace, Hangar's read-only paths, /run/hangar, and the caller's binds. No
 * /opt, /var, /srv, /root, other homes, /boot, /mnt, /media or host /run: inside the user namespace
 * the sandbox's uid is the host uid running Hangar, so a host folder that is not mounted is the only
 * kind that is safe from it.
 */

export const SANDBOX_HOME = "/home/agent";
export const SANDBOX_WORKSPACE = "/home/agent/workspace";
/**
 * Under this folder inside: the session's run/sock/ (rw, the reverse bridges' sockets), run/listen/
 * (ro, Hangar's listeners), the entry script (ro) and the private tmpfs (SANDBOX_PRIVATE).
 */
export const SANDBOX_RUN = "/run/hangar";
/** The private tmpfs holds the harness's environment file and boot plan: a few KiB to a few MiB. */
export const PRIVATE_TMPFS_BYTES = 16 * 1024 * 1024;
export const SANDBOX_UID = 1000;
export const SANDBOX_HOSTNAME = "sandbox";
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Top-level host folders shown read-only; where one is a symlink (merged /usr) the link is recreated. */
export const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"];

/**
 * Host /etc entries shown read-only where they exist, relative to /etc: what libc, TLS (the egress
 * proxy tunnels to real hosts), git, Python and pip, node, socat, the harnesses and a login shell
 * read. The driver leaves out an entry that is not world-readable, so a root-only file never comes in
 * through this list. Everything else (shadow, ssh keys, /etc/default and other EnvironmentFiles,
 * /etc/kubernetes, cloud credentials) is not in the sandbox at all.
 */
export const ETC_ALLOWED = [
  "alternatives",
  "bash.bashrc",
  "ca-certificates.conf",
  "crypto-policies/back-ends",
  "debian_version",
  "gai.conf",
  "gitconfig",
  "host.conf",
  "inputrc",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "localtime",
  "magic",
  "magic.mime",
  "mime.types",
  "nanorc",
  "os-release",
  "pip.conf",
  "pki/ca-trust/extracted",
  "pki/tls/certs",
  "pki/tls/openssl.cnf",
  "profile",
  "profile.d",
  "protocols",
  "python3",
  "services",
  "shells",
  "ssl/cert.pem",
  "ssl/certs",
  "ssl/openssl.cnf",
  "terminfo",
  "timezone",
  "vim",
];
/** Top-level /etc names allowed by pattern: Debian's per-version Python folders (python3.11). */
export const ETC_ALLOWED_PATTERNS = [/^python3\.\d+$/];

/** What of the host's root the sandbox sees; the driver finds it (see host-root.ts). */
export type HostRoot = {
  /** Real folders among SYSTEM_DIRS, bound read-only at the same place. */
  dirs: string[];
  /** Symlinks among SYSTEM_DIRS, recreated with the same target (/bin -> usr/bin). */
  links: { path: string; target: string }[];
  /** Entries of ETC_ALLOWED (relative to /etc) that exist and are world-readable. */
  etc: string[];
  /** Folders outside the above that Hangar's programs need, e.g. node's when it is not under /usr. */
  tools: string[];
};

/** A merged-/usr Debian with nothing else: what the builder assumes when the plan names no root. */
export const MERGED_USR_ROOT: HostRoot = {
  dirs: ["/usr"],
  links: [
    { path: "/bin", target: "usr/bin" },
    { path: "/sbin", target: "usr/sbin" },
    { path: "/lib", target: "usr/lib" },
    { path: "/lib64", target: "usr/lib64" },
  ],
  etc: [],
  tools: [],
};

/**
 * The sandbox's own users, groups and names, written by the driver and bound at /etc/<name>: never the
 * host's. Host files appear owned by `agent` (the host uid running Hangar maps to it), other owners as
 * `nobody`. The sandbox has no network but loopback, so the resolver has nothing to ask; programs
 * reach the internet through the egress proxy, which resolves names on the host.
 */
export function sandboxEtcFiles(shell: string): Record<string, string> {
  const uid = SANDBOX_UID;
  const lines = (...l: string[]) => l.join("\n") + "\n";
  return {
    passwd: lines(
      "root:x:0:0:root:/root:/usr/sbin/nologin",
      `agent:x:${uid}:${uid}:agent:${SANDBOX_HOME}:${shell}`,
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
    ),
    group: lines("root:x:0:", `agent:x:${uid}:`, "nogroup:x:65534:"),
    // localhost is IPv4 alone: the bridges listen on 127.0.0.1.
    hosts: lines(`127.0.0.1 localhost ${SANDBOX_HOSTNAME}`, "::1 ip6-localhost ip6-loopback"),
    "resolv.conf": lines("nameserver 127.0.0.1", "options timeout:1 attempts:1"),
    "nsswitch.conf": lines(
      "passwd: files",
      "group: files",
      "shadow: files",
      "hosts: files dns",
      "networks: files",
      "protocols: files",
      "services: files",
      "ethers: files",
      "rpc: files",
    ),
  };
}

/** Names a shell, `env NAME=value` and bwrap --setenv all read the same way; no NUL in values. */
export function assertEnv(env: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`Invalid environment variable name: ${key}`);
    if (value.includes("\0")) throw new Error(`Environment variable ${key} contains a NUL byte`);
  }
  return env;
}

/** The sandbox's whole environment: the spec's, plus HOME, plus PATH when the spec has none. */
export function sandboxEnv(env: Record<string, string>, home: string): Record<string, string> {
  return { PATH: DEFAULT_PATH, ...assertEnv(env), HOME: home };
}

export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

export type EntryBridges = {
  /** Listen on 127.0.0.1:port, connect to the Unix socket `connect` (a path as the script sees it). */
  forward: { port: number; connect: string }[];
  /** Listen on the Unix socket `listen`, connect to 127.0.0.1:port. */
  reverse: { listen: string; port: number }[];
};

/** The /proc/net/tcp pattern of a socket listening on 127.0.0.1:port. */
export function procNetTcpListen(port: number): string {
  return `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A`;
}

/**
 * `sh entry.sh argv...`: starts one socat per bridge in the background, waits (up to ~5 s) until all
 * listen and are still alive, then execs the main command in place of the shell. The script's own
 * variables carry a `hangar_` prefix and PATH is restored, so the command's environment is untouched.
 * The bridges read nothing: stdin (the boot spec) and the status fd are the main command's alone.
 */
export function buildEntryScript(bridges: EntryBridges, socat = "socat"): string {
  const lines = [
    "#!/bin/sh",
    "# Generated by Hangar for this session; rewritten on every launch.",
    `hangar_path=$PATH; PATH=${DEFAULT_PATH}`,
    "hangar_pids=",
  ];
  const checks: string[] = [];
  const bg = (args: string) => [
    `${shellQuote(socat)} ${args} </dev/null 4>&- &`,
    'hangar_pids="$hangar_pids $!"',
  ];
  for (const { port, connect } of bridges.forward) {
    lines.push(
      ...bg(`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork ${shellQuote(`UNIX-CONNECT:${connect}`)}`),
    );
    checks.push(`grep -q ${shellQuote(procNetTcpListen(port))} /proc/net/tcp || hangar_ready=0`);
  }
  for (const { listen, port } of bridges.reverse) {
    lines.push(
      ...bg(`${shellQuote(`UNIX-LISTEN:${listen},fork,unlink-early,mode=600`)} TCP:127.0.0.1:${port}`),
    );
    checks.push(`[ -S ${shellQuote(listen)} ] || hangar_ready=0`);
  }
  if (checks.length > 0) {
    lines.push(
      "hangar_tries=0",
      "while :; do",
      "  hangar_ready=1",
      ...checks.map((c) => `  ${c}`),
      "  for hangar_p in $hangar_pids; do",
      '    kill -0 "$hangar_p" 2>/dev/null || { echo "hangar: a bridge exited" >&2; exit 97; }',
      "  done",
      '  [ "$hangar_ready" = 1 ] && break',
      "  hangar_tries=$((hangar_tries + 1))",
      '  [ "$hangar_tries" -ge 250 ] && { echo "hangar: bridges did not start listening" >&2; exit 97; }',
      "  sleep 0.02",
      "done",
    );
  }
  lines.push(
    "PATH=$hangar_path",
    "unset hangar_path hangar_pids hangar_tries hangar_ready hangar_p",
    'exec "$@"',
    "",
  );
  return lines.join("\n");
}

export type HiddenPath = { path: string; kind: "dir" | "file" };

export type BwrapPlan = {
  sessionDir: string;
  argv: string[];
  /** Final environment (see `sandboxEnv`); passed with --clearenv + --setenv only. */
  env: Record<string, string>;
  /**
   * Existing host paths to hide; the caller resolves their kind (the builder does no I/O). Only those
   * inside (or around) something the sandbox sees matter: a system folder, an /etc entry, a read-only
   * path. Elsewhere nothing is mounted, so there is nothing to hide.
   */
  hide: HiddenPath[];
  /** Host paths shown read-only at the same place, after /tmp and the home (so those cannot cover them). */
  readOnly: string[];
  /** The host's system folders and /etc entries to show; MERGED_USR_ROOT when absent. */
  root?: HostRoot;
  /** Generated files bound read-only at /etc/<name> (see `sandboxEtcFiles`), by host path. */
  etcFiles?: Record<string, string>;
  /** Forward-bridge sockets outside run/listen/, each bound (read-only) as a single file. */
  socketBinds: { hostPath: string; sandboxPath: string }[];
  /**
   * Host folders or files shown at another place, last, so they shadow everything above. bwrap creates
   * a missing target in the tmpfs root (or in /tmp, the home, a hidden folder or a writable bind);
   * under a read-only host folder (/usr, a read-only path) the target must already exist.
   */
  binds?: { source: string; target: string; readOnly?: boolean }[];
  /** Fd on which bwrap reports {"child-pid": …} and later {"exit-code": …}. */
  statusFd?: number;
  /** Fd from which bwrap reads the seccomp filter it loads for the sandbox's whole process tree. */
  seccompFd?: number;
};

const isWithin = (child: string, parent: string) =>
  child === parent || child.startsWith(parent.endsWith("/") ? parent : parent + "/");

/** Absolute, normalised, de-duplicated hide list, parents first, with covered children dropped. */
export function normaliseHidden(hide: HiddenPath[]): HiddenPath[] {
  const sorted = hide
    .map((h) => {
      if (!path.isAbsolute(h.path)) throw new Error(`Hidden path must be absolute: ${h.path}`);
      const p = path.resolve(h.path);
      if (p === "/") throw new Error("Cannot hide the root folder");
      return { ...h, path: p };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
  const kept: HiddenPath[] = [];
  for (const h of sorted) {
    if (kept.some((k) => k.kind === "dir" && isWithin(h.path, k.path))) continue;
    kept.push(h);
  }
  return kept;
}

const absolute = (what: string, p: string) => {
  if (!path.isAbsolute(p)) throw new Error(`${what} must be absolute: ${p}`);
  return path.resolve(p);
};

/**
 * The host's system folders in the tmpfs root, then /dev, /proc and the allowed /etc entries. Shared
 * with the driver's preflight, which checks that this much starts on the host.
 */
export function systemRootArgs(root: HostRoot): string[] {
  return [
    ...root.dirs.map((d) => absolute("System folder", d)).flatMap((d) => ["--ro-bind", d, d]),
    ...root.links.flatMap((l) => ["--symlink", l.target, absolute("System link", l.path)]),
    // /dev itself turns read-only at the end; /dev/shm stays a writable tmpfs for POSIX shm.
    ...["--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm", "--proc", "/proc"],
    ...["--perms", "0755", "--dir", "/etc"],
    ...root.etc.flatMap((e) => {
      const p = path.posix.join("/etc", e);
      if (!isWithin(p, "/etc") || p === "/etc") throw new Error(`Not an /etc entry: ${e}`);
      return ["--ro-bind", p, p];
    }),
    ...["--symlink", "/proc/self/mounts", "/etc/mtab"],
  ];
}

function hideArgs(h: HiddenPath): string[] {
  return h.kind === "dir" ? ["--tmpfs", h.path] : ["--ro-bind", "/dev/null", h.path];
}

/** Arguments for `bwrap` (without the program name). */
export function buildBwrapArgs(plan: BwrapPlan): string[] {
  const p = sessionPaths(plan.sessionDir);
  const root = plan.root ?? MERGED_USR_ROOT;
  const readOnly = [...root.tools, ...plan.readOnly].map((r) => absolute("Read-only path", r));
  const hide = plan.hide.map((h) => ({ ...h, path: absolute("Hidden path", h.path) }));
  // Hiding matters only where the sandbox sees something: in (or around) a system folder or an /etc
  // entry, before the read-only paths (which re-expose what they name), and again inside those.
  const shown = [...root.dirs, ...root.etc.map((e) => path.posix.join("/etc", e))];
  const hidden = normaliseHidden(
    hide.filter((h) => shown.some((s) => isWithin(h.path, s) || isWithin(s, h.path))),
  );
  const rehidden = normaliseHidden(
    hide.filter((h) => readOnly.some((r) => h.path !== r && isWithin(h.path, r))),
  );
  const etcFiles = Object.entries(plan.etcFiles ?? {}).map(([name, source]) => {
    if (!/^[a-z][a-z0-9._-]*$/.test(name)) throw new Error(`Invalid /etc file name: ${name}`);
    return ["--ro-bind", absolute("Generated /etc file", source), `/etc/${name}`];
  });
  const binds = (plan.binds ?? []).map((b) => {
    if (!path.isAbsolute(b.source)) throw new Error(`Bind source must be absolute: ${b.source}`);
    if (!path.isAbsolute(b.target)) throw new Error(`Bind target must be absolute: ${b.target}`);
    const target = path.resolve(b.target);
    if (target === "/") throw new Error("Cannot bind over the root folder");
    return [b.readOnly ? "--ro-bind" : "--bind", path.resolve(b.source), target];
  });
  const tmpfsDirs = [...hidden, ...rehidden].filter((h) => h.kind === "dir").map((h) => h.path);
  const uid = String(SANDBOX_UID);
  const args = [
    // A user namespace is what takes root's capabilities away (CapEff 0 inside); never drop it.
    ...["--unshare-user", "--uid", uid, "--gid", uid, "--disable-userns", "--cap-drop", "ALL"],
    ...["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--hostname", SANDBOX_HOSTNAME],
    ...["--die-with-parent", "--new-session"],
    // No `--ro-bind / /`: the root is bwrap's empty tmpfs, and only what is named here is in it.
    ...systemRootArgs(root),
    ...etcFiles.flat(),
    ...hidden.flatMap(hideArgs),
    // The session's tmp/ is also /var/tmp (programs that want one get it on disk, not in memory).
    ...["--bind", p.tmp, "/tmp", "--bind", p.tmp, "/var/tmp"],
    ...["--bind", p.home, SANDBOX_HOME],
    ...["--bind", p.workspace, SANDBOX_WORKSPACE],
    // After /tmp and home are in place, so a read-only path under them (Hangar installed in /tmp, say)
    // is not covered again by the session's own folders.
    ...readOnly.flatMap((r) => ["--ro-bind", r, r]),
    ...rehidden.flatMap(hideArgs),
    ...["--ro-bind", p.entry, `${SANDBOX_RUN}/entry.sh`],
    ...["--bind", p.sock, `${SANDBOX_RUN}/sock`],
    // A folder, not single files: a listener re-created after a Hangar restart shows up inside.
    ...["--ro-bind", p.listen, `${SANDBOX_RUN}/listen`],
    ...plan.socketBinds.flatMap((s) => ["--ro-bind", s.hostPath, s.sandboxPath]),
    ...["--perms", "0700", "--size", String(PRIVATE_TMPFS_BYTES), "--tmpfs", SANDBOX_PRIVATE],
    ...binds.flat(),
    // The hiding tmpfs mounts, /dev and the root are writable until now (bwrap creates mount points
    // in them); children keep their own flags, so /tmp, the home and the private tmpfs stay writable.
    ...tmpfsDirs.flatMap((dir) => ["--remount-ro", dir]),
    ...["--remount-ro", "/dev", "--remount-ro", "/"],
    // A bind over the home (or the workspace itself) may hide the workspace: start at / then.
    ...["--chdir", binds.some((b) => isWithin(SANDBOX_WORKSPACE, b[2]!)) ? "/" : SANDBOX_WORKSPACE],
    "--clearenv",
    ...Object.entries(plan.env).flatMap(([k, v]) => ["--setenv", k, v]),
    ...(plan.statusFd === undefined ? [] : ["--json-status-fd", String(plan.statusFd)]),
    ...(plan.seccompFd === undefined ? [] : ["--seccomp", String(plan.seccompFd)]),
    "--",
    "/bin/sh",
    `${SANDBOX_RUN}/entry.sh`,
    ...plan.argv,
  ];
  return args;
}
