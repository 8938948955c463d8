import { describe, expect, it } from "vitest";

import { sessionPaths } from "../layout";
import { SANDBOX_PRIVATE } from "../types";
import { buildBwrapArgs, buildEntryScript, PRIVATE_TMPFS_BYTES } from "./bwrap-args";

/*
 * Hangar's own run files in the bwrap argv: which of them the sandbox sees, and how. The host-only
 * ones (state, log, status, tunnels) must never be mounted; the sandbox may write only sock/.
 */

const dir = "/var/lib/hangar/sessions/s1";
const args = () =>
  buildBwrapArgs({
    sessionDir: dir,
    argv: ["node", "boot.mjs"],
    env: { PATH: "/usr/bin", HOME: "/home/agent" },
    hide: [],
    readOnly: [],
    socketBinds: [],
    statusFd: 3,
  });

/** [flag, source, target] triples of the binds. */
function binds(list: string[]) {
  const out: [string, string, string][] = [];
  list.forEach((a, i) => {
    if (a === "--bind" || a === "--ro-bind") out.push([a, list[i + 1]!, list[i + 2]!]);
  });
  return out;
}

describe("Hangar's run files in the sandbox", () => {
  it("lays out run/: sock and listen shown, status, tunnels and state host-only", () => {
    const p = sessionPaths(dir);
    expect(p.listen).toBe(`${dir}/run/listen`);
    expect(p.tunnels).toBe(`${dir}/run/tunnels`);
    expect(p.status).toBe(`${dir}/run/status.jsonl`);
    const runBinds = binds(args()).filter(([, source]) => source.startsWith(p.run));
    expect(runBinds).toEqual([
      ["--ro-bind", p.entry, "/run/hangar/entry.sh"],
      ["--bind", p.sock, "/run/hangar/sock"],
      ["--ro-bind", p.listen, "/run/hangar/listen"],
    ]);
  });

  it("mounts a private 0700 tmpfs with a size cap, never remounted read-only", () => {
    const a = args();
    const at = a.indexOf(SANDBOX_PRIVATE);
    expect(a.slice(at - 5, at + 1)).toEqual([
      "--perms",
      "0700",
      "--size",
      String(PRIVATE_TMPFS_BYTES),
      "--tmpfs",
      SANDBOX_PRIVATE,
    ]);
    expect(a.filter((x, i) => x === SANDBOX_PRIVATE && a[i - 1] === "--remount-ro")).toEqual([]);
  });

  it("gives the bridges neither stdin nor the status fd", () => {
    const script = buildEntryScript({
      forward: [{ port: 1, connect: "/run/hangar/listen/egress.sock" }],
      reverse: [{ listen: "/run/hangar/sock/harness.sock", port: 2 }],
    });
    const bridges = script.split("\n").filter((l) => l.startsWith("socat"));
    expect(bridges).toHaveLength(2);
    for (const line of bridges) expect(line).toMatch(/ <\/dev\/null 4>&- &$/);
  });
});
