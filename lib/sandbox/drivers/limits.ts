import fs from "node:fs";
import path from "node:path";

import { log } from "@/lib/log";

import type { AppliedLimits, ResourceLimits } from "../types";
import { shellQuote } from "./bwrap-args";
import { sleep } from "./procs";
import type { SandboxRecord } from "./records";

/* A sandbox's resource limits: cgroup v2, cgroup v1, then rlimits. */

type CgroupPlan = { mechanism: "cgroup-v1" | "cgroup-v2"; dirs: string[]; notes: string[] };

type Hierarchy = { mount: string; root: string; own: string };

export function readHierarchies(): { v2?: Hierarchy; v1: Map<string, Hierarchy> } {
  const own = new Map<string, string>();
  for (const line of fs.readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, controllers, p] = line.split(":");
    if (p === undefined || controllers === undefined) continue;
    for (const c of controllers === "" ? ["<v2>"] : controllers.split(",")) own.set(c, p);
  }
  const v1 = new Map<string, Hierarchy>();
  let v2: Hierarchy | undefined;
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const f = left.split(" ");
    const [fstype, , superOptions = ""] = right.split(" ");
    const root = f[3] ?? "/";
    const mount = f[4] ?? "";
    if (fstype === "cgroup2" && own.has("<v2>")) v2 = { mount, root, own: own.get("<v2>")! };
    if (fstype !== "cgroup") continue;
    for (const c of ["memory", "pids"]) {
      if (superOptions.split(",").includes(c) && own.has(c)) v1.set(c, { mount, root, own: own.get(c)! });
    }
  }
  return { v2, v1 };
}

export function hierarchyDir(h: Hierarchy): string {
  const rel = h.root !== "/" && h.own.startsWith(h.root) ? h.own.slice(h.root.length) : h.own;
  return path.join(h.mount, rel);
}

function writeCg(dir: string, file: string, value: string) {
  fs.writeFileSync(path.join(dir, file), value);
}

/*
 * Sandbox cgroups nest under the server's own cgroup (hangar/<sessionId>), so the server's own limits
 * and accounting still cover its sandboxes. v2 needs the controllers delegated to that subtree.
 */
function createCgroups(sessionId: string, limits: ResourceLimits): CgroupPlan | null {
  const wanted = { memory: limits.memoryMiB !== undefined, pids: limits.pids !== undefined };
  if (!wanted.memory && !wanted.pids) return null;
  let found: ReturnType<typeof readHierarchies>;
  try {
    found = readHierarchies();
  } catch {
    return null;
  }
  const notes: string[] = [];
  if (found.v2) {
    const base = hierarchyDir(found.v2);
    const dir = path.join(base, "hangar", sessionId);
    try {
      const available = fs.readFileSync(path.join(base, "cgroup.controllers"), "utf8").split(/\s+/);
      if (available.includes("memory") && available.includes("pids")) {
        writeCg(base, "cgroup.subtree_control", "+memory +pids");
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        writeCg(path.dirname(dir), "cgroup.subtree_control", "+memory +pids");
        fs.mkdirSync(dir, { recursive: true });
        if (limits.memoryMiB !== undefined) {
          writeCg(dir, "memory.max", String(limits.memoryMiB * 1024 * 1024));
          try {
            writeCg(dir, "memory.swap.max", "0");
          } catch {
            notes.push("memory.swap.max not writable: swap is not capped");
          }
        }
        if (limits.pids !== undefined) writeCg(dir, "pids.max", String(limits.pids));
        return { mechanism: "cgroup-v2", dirs: [dir], notes };
      }
    } catch (err) {
      removeCgroupDirs([dir]);
      notes.push(`cgroup v2 unusable under ${base}: ${(err as Error).message}`);
    }
  }
  const dirs: string[] = [];
  try {
    for (const controller of ["memory", "pids"] as const) {
      if (!wanted[controller]) continue;
      const h = found.v1.get(controller);
      if (!h) throw new Error(`no cgroup v1 ${controller} hierarchy`);
      const dir = path.join(hierarchyDir(h), "hangar", sessionId);
      fs.mkdirSync(dir, { recursive: true });
      dirs.push(dir);
      if (controller === "pids") {
        writeCg(dir, "pids.max", String(limits.pids));
        continue;
      }
      const bytes = String(limits.memoryMiB! * 1024 * 1024);
      writeCg(dir, "memory.limit_in_bytes", bytes);
      try {
        writeCg(dir, "memory.memsw.limit_in_bytes", bytes);
      } catch {
        notes.push("memory.memsw.limit_in_bytes not writable: swap is not capped");
      }
    }
    return { mechanism: "cgroup-v1", dirs, notes };
  } catch (err) {
    removeCgroupDirs(dirs);
    notes.push(`cgroup v1 unusable: ${(err as Error).message}`);
    log.debug("sandbox cgroups unavailable", { sessionId, notes });
    return null;
  }
}

export function cgroupPids(dirs: string[]): number[] {
  const pids: number[] = [];
  for (const dir of dirs) {
    try {
      for (const line of fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n")) {
        if (line) pids.push(Number(line));
      }
    } catch {
      // Already removed.
    }
  }
  return pids;
}

/** Removes the session cgroups (retrying while the last tasks leave), then empty `hangar/` parents. */
export async function removeCgroups(dirs: string[]) {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (removeCgroupDirs(dirs)) return;
    await sleep(40);
  }
  log.warn("sandbox cgroup not removed", { dirs });
}

function removeCgroupDirs(dirs: string[]): boolean {
  let done = true;
  for (const dir of dirs) {
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") done = false;
      continue;
    }
    try {
      fs.rmdirSync(path.dirname(dir));
    } catch {
      // Other sandboxes still use it.
    }
  }
  return done;
}

export type LimitPlan = { applied: AppliedLimits; cgroups: string[]; rlimits: string[] };

export function planLimits(sessionId: string, limits: ResourceLimits, cgroupMode: "auto" | "off"): LimitPlan {
  const rlimits: string[] = [];
  if (limits.nofile !== undefined) rlimits.push(`--nofile=${limits.nofile}:${limits.nofile}`);
  const cg = cgroupMode === "auto" ? createCgroups(sessionId, limits) : null;
  if (cg) {
    return {
      applied: { mechanism: cg.mechanism, ...limits, notes: cg.notes },
      cgroups: cg.dirs,
      rlimits,
    };
  }
  const applied: AppliedLimits = { mechanism: "none", notes: [], nofile: limits.nofile };
  if (limits.memoryMiB !== undefined) {
    // RLIMIT_DATA, not RLIMIT_AS: Node reserves gigabytes of address space it never touches and
    // aborts at start under an AS cap of 512 MiB, while DATA counts only private writable memory.
    rlimits.push(`--data=${limits.memoryMiB * 1024 * 1024}`);
    applied.memoryMiB = limits.memoryMiB;
    applied.notes.push("memory: RLIMIT_DATA caps each process's private memory, not the sandbox total");
  }
  if (limits.pids !== undefined) {
    if (process.getuid?.() === 0) {
      applied.notes.push(
        "pids: not enforced; RLIMIT_NPROC counts per host uid and the kernel exempts root, which " +
          "the sandbox's uid maps to",
      );
    } else {
      rlimits.push(`--nproc=${limits.pids}:${limits.pids}`);
      applied.pids = limits.pids;
      applied.notes.push("pids: RLIMIT_NPROC counts every process of this host uid, not one sandbox");
    }
  }
  if (rlimits.length > 0) applied.mechanism = "rlimit";
  return { applied, cgroups: [], rlimits };
}

export function joinLimitsScript(
  record: Pick<SandboxRecord, "cgroups" | "rlimits">,
  prlimit: string,
): string[] {
  const lines = record.cgroups.map(
    (dir) =>
      `echo $$ > ${shellQuote(path.join(dir, "cgroup.procs"))} || fail ${shellQuote(`cannot join ${dir}`)}`,
  );
  if (record.rlimits.length > 0) {
    lines.push(`${shellQuote(prlimit)} --pid $$ ${record.rlimits.join(" ")} || fail "prlimit failed"`);
  }
  return lines;
}
