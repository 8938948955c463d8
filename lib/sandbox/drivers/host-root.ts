import fs from "node:fs";
import path from "node:path";

import { ETC_ALLOWED, ETC_ALLOWED_PATTERNS, sandboxEtcFiles, SYSTEM_DIRS, type HostRoot } from "./bwrap-args";

/*
 * What of this host the local driver's sandboxes see (the allow-list of bwrap-args.ts), found on the
 * disk: which system folders are real and which are merged-/usr links, which allowed /etc entries
 * exist, and where node lives. Also writes the generated /etc files a session binds.
 */

/** Readable (and, for a folder, searchable) by any user: the bar for an /etc entry to come in. */
function worldReadable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    const need = st.isDirectory() ? 0o005 : 0o004;
    return (st.isDirectory() || st.isFile()) && (st.mode & need) === need;
  } catch {
    return false; // Missing, or a dangling link.
  }
}

function etcEntries(etc: string): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(etc).filter((n) => ETC_ALLOWED_PATTERNS.some((p) => p.test(n)));
  } catch {
    // No /etc: nothing to show.
  }
  return [...ETC_ALLOWED, ...names].filter((e) => worldReadable(path.join(etc, e))).sort();
}

/** The host's layout now (cheap: a few dozen stats; a package upgrade may change it between launches). */
export function probeHostRoot(execPath = process.execPath): HostRoot {
  const root: HostRoot = { dirs: [], links: [], etc: etcEntries("/etc"), tools: [] };
  for (const dir of SYSTEM_DIRS) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) root.links.push({ path: dir, target: fs.readlinkSync(dir) });
    else if (st.isDirectory()) root.dirs.push(dir);
  }
  // The sandbox's main process is this node (the bootstrap runs on it); a node under /usr is there.
  const nodeDir = path.dirname(fs.realpathSync(execPath));
  const systemReal = root.dirs.concat(root.links.map((l) => path.resolve("/", l.target)));
  if (!systemReal.some((d) => nodeDir === d || nodeDir.startsWith(d + "/"))) root.tools.push(nodeDir);
  return root;
}

/** The agent's login shell: bash where the host has it (the `?terminal=shell` terminal runs it). */
export function agentShell(): string {
  return fs.existsSync("/bin/bash") ? "/bin/bash" : "/bin/sh";
}

/**
 * Writes the generated /etc files into `dir` (host-only, under the session's run/) and returns them
 * by name, for BwrapPlan.etcFiles. Rewritten on every launch; a running sandbox keeps its copies.
 */
export function writeSandboxEtc(dir: string): Record<string, string> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: Record<string, string> = {};
  for (const [name, text] of Object.entries(sandboxEtcFiles(agentShell()))) {
    const file = path.join(dir, name);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o644 });
    fs.renameSync(tmp, file);
    files[name] = file;
  }
  return files;
}
