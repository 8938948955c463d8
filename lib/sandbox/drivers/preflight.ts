import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { HOST_PERL, seccompFilter, seccompSupported } from "../seccomp";
import type { Preflight } from "../types";
import { DEFAULT_PATH, systemRootArgs } from "./bwrap-args";
import { SETNS_SYSCALL } from "./enter";
import { probeHostRoot } from "./host-root";
import { hierarchyDir, readHierarchies } from "./limits";
import { asProcessEnv, findExecutable } from "./procs";
import type { Binaries } from "./supervised";

/** Why this kernel refuses an unprivileged user namespace, from the knobs distributions use. */
function userNamespaceHints(): string[] {
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, "utf8").trim();
    } catch {
      return undefined;
    }
  };
  const hints: string[] = [];
  if (read("/proc/sys/kernel/unprivileged_userns_clone") === "0")
    hints.push("sysctl kernel.unprivileged_userns_clone=1");
  if (read("/proc/sys/user/max_user_namespaces") === "0") hints.push("sysctl user.max_user_namespaces=15000");
  if (read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") === "1")
    hints.push("an AppArmor profile allowing userns for bwrap (Ubuntu 24.04+)");
  return hints;
}

/** The nearest folder of `dir` (itself or a parent) that exists. */
function existingAncestor(dir: string): string {
  let at = dir;
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}

/**
 * What the local driver needs of this host, checked once at start: its binaries, the seccomp loader, a
 * user that can enter sandboxes and own the sandbox folder, a kernel that lets bwrap start the very
 * root every sandbox gets, and which cgroups limit them.
 */
export function localPreflight(bin: Binaries, root: string): Preflight {
  const problems: string[] = [];
  const notes: string[] = [];
  for (const [name, file] of Object.entries(bin)) {
    if (!findExecutable(file))
      problems.push(`${name} not found (Debian: apt-get install bubblewrap socat util-linux)`);
  }
  if (!seccompSupported()) {
    notes.push(`no seccomp filter for ${process.arch}: sandboxes run without one`);
  } else if (!findExecutable(HOST_PERL)) {
    problems.push(
      `${HOST_PERL} not found: programs started in a sandbox load its seccomp filter with it ` +
        "(Debian: perl-base, which every Debian system has)",
    );
  }
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) {
    notes.push(
      "running as root: a sandbox's uid is root on the host, so a root-only file in what it sees " +
        "(/usr, Hangar's read-only paths) is readable there; run Hangar as a dedicated user " +
        '(README: "Running as an unprivileged user")',
    );
  } else {
    notes.push(`running as uid ${uid}: a sandbox has this user's rights on host files, never root's`);
    if (!findExecutable("perl") || SETNS_SYSCALL[process.arch] === undefined) {
      problems.push(`entering a sandbox as uid ${uid} needs perl on x64 or arm64 (Debian: perl-base)`);
    }
    const at = existingAncestor(root);
    try {
      fs.accessSync(at, fs.constants.W_OK | fs.constants.X_OK);
      const owner = fs.statSync(at).uid;
      if (at === root && owner !== uid) throw new Error(`it belongs to uid ${owner}`);
    } catch (err) {
      problems.push(
        `the sandbox folder ${root} is not usable by uid ${uid} (${(err as Error).message}): ` +
          "give the data folder to the user Hangar runs as (chown -R)",
      );
    }
  }
  if (problems.length === 0) {
    // The same root every sandbox gets (tmpfs, system folders, /etc allow-list), made read-only.
    // With the seccomp filter on stdin: the kernel must accept it too.
    const filter = seccompSupported() ? seccompFilter() : undefined;
    const probe = spawnSync(
      bin.bwrap,
      ["--unshare-user", "--uid", "1000", "--gid", "1000", "--disable-userns", "--unshare-all"].concat(
        ["--die-with-parent", ...systemRootArgs(probeHostRoot()), "--remount-ro", "/"],
        filter ? ["--seccomp", "0"] : [],
        ["--", "/bin/true"],
      ),
      {
        encoding: "utf8",
        timeout: 10_000,
        env: asProcessEnv({ PATH: DEFAULT_PATH }),
        ...(filter && { input: filter }),
      },
    );
    if (probe.status !== 0) {
      const hints = userNamespaceHints();
      problems.push(
        `bwrap cannot start a sandbox: ${(probe.stderr || probe.error?.message || "").trim()}` +
          (hints.length > 0
            ? ` (this kernel restricts user namespaces; allow them: ${hints.join(", ")})`
            : " (Ubuntu 24.04+: allow unprivileged user namespaces for bwrap in AppArmor)"),
      );
    }
  }
  const cg = readHierarchies();
  notes.push(
    cg.v2 ? `cgroup v2 at ${hierarchyDir(cg.v2)}` : "no cgroup v2 hierarchy",
    `cgroup v1 controllers: ${[...cg.v1.keys()].join(", ") || "none"}`,
  );
  if (uid !== 0 && cg.v2) {
    try {
      fs.accessSync(hierarchyDir(cg.v2), fs.constants.W_OK);
    } catch {
      notes.push(
        "this user cannot write its cgroup: sandbox limits fall back to rlimits (memory per " +
          "process, processes per host uid)",
      );
    }
  }
  return { ok: problems.length === 0, problems, notes };
}
