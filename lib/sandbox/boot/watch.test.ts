import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import { DEFAULT_PATH } from "../drivers/bwrap-args";
import { ProcessDriver } from "../drivers/process";
import { sessionPaths } from "../layout";
import type { SandboxDriver } from "../types";
import { watchBoot, type BootCallbacks } from "./watch";

/*
 * The boot watcher on a real sandbox (the process driver: a supervised sandbox without namespaces).
 * The sandbox's main process plays the bootstrap: it writes status lines on its status fd and waits
 * for files the test makes in its workspace. A counting wrapper around the driver shows what the
 * watcher asks it; a spy on fs.promises.open shows every time it opens the status file.
 */

const STATUS = `>&"$HANGAR_STATUS_FD"`;
const line = (value: object) => `echo '${JSON.stringify(value)}' ${STATUS}`;
const waitFor = (file: string) => `while [ ! -e ${file} ]; do sleep 0.02; done`;

/** Counts the calls of each driver method. */
function counting(driver: SandboxDriver) {
  const calls: Record<string, number> = {};
  const wrapped = new Proxy(driver, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { driver: wrapped, calls };
}

type Seen = { at: number; what: string; args: unknown[] };

function recorder() {
  const seen: Seen[] = [];
  const note =
    (what: string, result?: unknown) =>
    async (...args: unknown[]) => {
      seen.push({ at: Date.now(), what, args });
      return result as never;
    };
  const on: BootCallbacks = {
    phase: note("phase"),
    waiting: note("waiting"),
    confirmed: note("confirmed", true),
    ready: note("ready"),
    failed: note("failed"),
    exited: note("exited"),
  };
  const when = async (what: string, timeoutMs = 10_000): Promise<Seen> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = seen.find((s) => s.what === what);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} in ${timeoutMs} ms: ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { on, seen, when };
}

describe("the boot watcher", () => {
  let testRoot: string;
  let root: string;
  let real: ProcessDriver;
  const stops: (() => void)[] = [];

  beforeAll(() => {
    testRoot = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-watch-test-"));
    root = path.join(testRoot, "sessions");
    fs.mkdirSync(root);
    real = new ProcessDriver({ root, cgroups: "off" });
  });

  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    for (const h of await real.list()) await real.stop(h.sessionId, { graceMs: 0 });
    fs.rmSync(testRoot, { recursive: true, force: true });
  });

  /** A sandbox running `script`, watched from its start, with counters. */
  async function watched(id: string, script: string) {
    const sessionDir = path.join(root, id);
    const argv = ["/bin/sh", "-c", script];
    await real.launch({ sessionId: id, sessionDir, argv, env: { PATH: DEFAULT_PATH } });
    const { driver, calls } = counting(real);
    const paths = sessionPaths(sessionDir);
    const open = vi.spyOn(fs.promises, "open");
    const statusOpens = () => open.mock.calls.filter((c) => c[0] === paths.status).length;
    const { on, seen, when } = recorder();
    const started = Date.now();
    const watch = watchBoot(
      {
        sessionId: id,
        sessionDir,
        driver,
        // The harness is the main process itself, and it answers when `true` runs in the sandbox.
        check: { ready: { kind: "command", argv: ["true"] }, env: {}, program: argv },
        started,
        timings: {},
        phase: null,
        ready: false,
      },
      on,
    );
    stops.push(watch.stop);
    const touch = (name: string) => {
      fs.writeFileSync(path.join(paths.workspace, name), "");
      return Date.now();
    };
    return { calls, statusOpens, seen, when, touch, watch };
  }

  it("sees status lines as they are written, costs nothing while ready and idle, and settles on the exit", async () => {
    const s = await watched(
      "w-ready",
      [
        waitFor("phase"),
        line({ type: "phase", phase: "starting_harness", detail: "harness" }),
        waitFor("ready"),
        line({ type: "ready" }),
        waitFor("stop"),
        "exit 7",
      ].join("\n"),
    );

    const phaseAt = s.touch("phase");
    const phase = await s.when("phase");
    expect(phase.args.slice(0, 2)).toEqual(["starting_harness", "harness"]);
    expect(phase.at - phaseAt).toBeLessThan(1000);

    const readyAt = s.touch("ready");
    const ready = await s.when("ready");
    expect(ready.at - readyAt).toBeLessThan(2000);
    expect(ready.args[0]).toMatchObject({ starting_harness: expect.any(Number), total: expect.any(Number) });

    // Ready and idle: no status file opened, nothing asked of the driver (the old watcher opened the
    // file every 25 ms and asked the driver every 500 ms).
    const opens = s.statusOpens();
    const before = { ...s.calls };
    await new Promise((r) => setTimeout(r, 2500));
    expect(s.statusOpens() - opens).toBe(0);
    expect(s.calls).toEqual(before);

    const stopAt = s.touch("stop");
    const exited = await s.when("exited");
    expect(exited.at - stopAt).toBeLessThan(1500);
    expect(exited.args).toEqual([expect.stringMatching(/^the sandbox exited with code 7/), true]);
    expect(s.seen.map((x) => x.what)).toEqual(["phase", "confirmed", "ready", "exited"]);
  }, 30_000);

  it("a `failed` line gives the reason when the sandbox then exits", async () => {
    const s = await watched(
      "w-failed",
      [
        line({ type: "phase", phase: "writing_files" }),
        waitFor("fail"),
        line({ type: "failed", reason: "could not write /etc/x.conf: read-only file system" }),
        "exit 1",
      ].join("\n"),
    );
    await s.when("phase");
    const failAt = s.touch("fail");
    const exited = await s.when("exited");
    expect(exited.at - failAt).toBeLessThan(1500);
    expect(exited.args).toEqual(["could not write /etc/x.conf: read-only file system", false]);
    expect(s.seen.map((x) => x.what)).toEqual(["phase", "exited"]);
  }, 30_000);

  it("a sandbox that ended before the watch began is settled too", async () => {
    const s = await watched("w-gone", "exit 3");
    const exited = await s.when("exited", 5000);
    expect(exited.args).toEqual([expect.stringMatching(/^the sandbox exited with code 3/), false]);
  }, 30_000);
});
