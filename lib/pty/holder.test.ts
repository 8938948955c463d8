import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { renderedTerminal } from "@/e2e/support/terminal";
import { DEFAULT_PATH } from "@/lib/sandbox/drivers/bwrap-args";
import { LocalDriver } from "@/lib/sandbox/drivers/local";
import { ProcessDriver } from "@/lib/sandbox/drivers/process";
import { findExecutable, readProcStat } from "@/lib/sandbox/drivers/procs";
import type { SandboxDriver } from "@/lib/sandbox/types";

/*
 * Terminals held for a sandbox, on real sandboxes: a shell runs in a PTY that a detached holder owns;
 * clients attach, type, detach and reattach, and get the screen back from the holder's mirror.
 */

const haveBwrap = ["bwrap", "socat", "nsenter", "setpriv", "prlimit"].every((t) =>
  findExecutable(t, DEFAULT_PATH),
);

async function until<T>(probe: () => T | undefined | false, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function attach(driver: SandboxDriver, sessionId: string, size = { cols: 80, rows: 24 }) {
  return renderedTerminal((events) => driver.attachPty(sessionId, "tui", events), size);
}

function holderPid(sessionDir: string): number {
  return Number(fs.readFileSync(path.join(sessionDir, "run", "pty", "tui.pid"), "utf8"));
}

function alive(pid: number) {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== "Z";
}

function makeRoot(): string {
  return fs.mkdtempSync(path.join(process.cwd(), ".pty-test-"));
}

const drivers: [string, boolean, (root: string) => SandboxDriver][] = [
  ["local (bubblewrap)", haveBwrap, (root) => new LocalDriver({ root, cgroups: "off" })],
  ["process", true, (root) => new ProcessDriver({ root })],
];

describe.each(drivers)("held terminals on the %s driver", (_name, available, make) => {
  let root: string;
  let driver: SandboxDriver;
  const launched: string[] = [];

  async function sandbox(id: string) {
    launched.push(id);
    const sessionDir = path.join(root, id);
    await driver.launch({ sessionId: id, sessionDir, argv: ["sleep", "infinity"], env: { MARK: "m1" } });
    return sessionDir;
  }

  beforeAll(() => {
    root = makeRoot();
    driver = make(root);
  });
  afterAll(async () => {
    for (const id of launched) await driver.stop(id, { graceMs: 0 }).catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it.skipIf(!available)("runs a shell in a PTY inside the sandbox that survives detach", async () => {
    await sandbox("pty-a");
    const started = await driver.startPty("pty-a", {
      name: "tui",
      argv: ["bash", "--norc", "--noprofile"],
      env: { PS1: "sbx$ " },
      cols: 80,
      rows: 24,
    });
    expect(started.created).toBe(true);
    // Idempotent: a second start keeps the running terminal.
    const again = await driver.startPty("pty-a", { name: "tui", argv: ["bash"] });
    expect(again).toMatchObject({ created: false, holderPid: started.holderPid });

    const first = await attach(driver, "pty-a");
    first.connection.write("echo marker-$((6*7)) $MARK $(id -u); stty size\r");
    await first.waitFor("marker-42 m1");
    // stty prints after echo: wait for its line too rather than reading the screen at once.
    await first.waitFor("24 80");
    expect(await first.screen()).toContain("24 80");
    if (_name.startsWith("local")) expect(await first.screen()).toContain("marker-42 m1 1000");

    // Detach; the shell keeps running and keeps producing output no client sees live.
    first.connection.write("sleep 0.3; echo while-away\r");
    first.connection.close();
    await until(() => first.closed());
    await new Promise((r) => setTimeout(r, 600));

    const second = await attach(driver, "pty-a");
    await until(() => second.snapshot() !== null);
    const restored = await second.screen();
    expect(restored).toContain("marker-42 m1");
    expect(restored).toContain("while-away");
    expect(second.status()).toMatchObject({ running: true, cols: 80, rows: 24, starts: 1 });

    // Resize reaches the program.
    second.connection.resize(100, 30);
    second.connection.write("stty size\r");
    await second.waitFor("30 100");
    second.connection.close();
  });

  it.skipIf(!available)("gives two clients the same live output and starts the program again", async () => {
    await sandbox("pty-b");
    await driver.startPty("pty-b", { name: "tui", argv: ["bash", "--norc", "--noprofile"], title: "bash" });
    const a = await attach(driver, "pty-b");
    const b = await attach(driver, "pty-b");
    a.connection.write("echo shared-$((2+3))\r");
    await a.waitFor("shared-5");
    await b.waitFor("shared-5");

    a.connection.write("exit 7\r");
    await b.waitFor("[bash exited with code 7. Press Enter to start it again.]");
    await until(() => b.status()?.running === false && b.status());
    expect(b.status()?.exit?.code).toBe(7);
    b.connection.write("\r");
    await until(() => a.status()?.running === true && a.status()?.starts === 2);
    a.connection.write("echo back-$((1+1))\r");
    await b.waitFor("back-2");
    a.connection.close();
    b.connection.close();
  });

  it.skipIf(!available)("ends the holder and the program when the sandbox stops", async () => {
    const dir = await sandbox("pty-c");
    await driver.startPty("pty-c", { name: "tui", argv: ["bash", "--norc", "--noprofile"] });
    const holder = holderPid(dir);
    const client = await attach(driver, "pty-c");
    client.connection.write("echo $$ > $HOME/shell.pid\r");
    const shellPidFile = path.join(dir, "home", "shell.pid");
    await until(() => fs.existsSync(shellPidFile) && fs.readFileSync(shellPidFile, "utf8").trim());
    expect(alive(holder)).toBe(true);
    await driver.stop("pty-c", { graceMs: 200 });
    await until(() => !alive(holder) || undefined, 4000);
    await until(() => client.closed());
    expect(fs.existsSync(path.join(dir, "run", "pty", "tui.sock"))).toBe(false);
    await expect(driver.attachPty("pty-c", "tui", {})).rejects.toThrow(/No terminal/);
    // No process still runs in the session's folders.
    const leftovers = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes(dir));
    expect(leftovers).toEqual([]);
  });

  it.skipIf(!available)("spawns a program in the sandbox that it talks to over pipes", async () => {
    await sandbox("pty-e");
    const child = driver.spawn("pty-e", ["sh", "-c", 'read line; echo "got $line $EXTRA $(id -u)"'], {
      env: { EXTRA: "x1" },
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d));
    child.stdin!.end("hello\n");
    // "close", not "exit": the exit can come before the last of stdout has been read.
    const code = await new Promise((r) => child.once("close", r));
    expect(code).toBe(0);
    expect(out).toMatch(/^got hello x1 \d+\n$/);
    if (_name.startsWith("local")) expect(out).toBe("got hello x1 1000\n");
    expect(() => driver.spawn("nope", ["true"])).toThrow(/No sandbox/);

    // kill() reaches the program itself, not just the wrapper that entered the sandbox.
    const sleeper = driver.spawn("pty-e", ["sh", "-c", "echo $$ > $HOME/sleeper.pid; exec sleep 30"]);
    const pidFile = path.join(root, "pty-e", "home", "sleeper.pid");
    await until(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").trim());
    let sleeperOut = "";
    sleeper.stdout!.on("data", (d: Buffer) => (sleeperOut += d));
    const exited = new Promise((r) => sleeper.once("exit", (_code, signal) => r(signal)));
    sleeper.kill("SIGTERM");
    expect(await exited).toBeTruthy();
    const leftover = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.trim() === "sleep 30");
    expect(leftover).toEqual([]);
    expect(sleeperOut).toBe("");
  });

  it.skipIf(!available)(
    "a holder started early takes its program later; an unused one ends with the sandbox",
    async () => {
      const dir = await sandbox("pty-f");
      const holdersIn = (d: string) =>
        fs
          .readdirSync("/proc")
          .filter((p) => /^\d+$/.test(p))
          .filter((p) => {
            try {
              return fs.readlinkSync(`/proc/${p}/cwd`) === path.join(d, "run", "pty") && alive(Number(p));
            } catch {
              return false;
            }
          });
      driver.prewarmPty!("pty-f", "tui");
      await until(() => holdersIn(dir).length === 1 || undefined);
      const warm = holdersIn(dir)[0];
      const started = await driver.startPty("pty-f", {
        name: "tui",
        argv: ["bash", "--norc", "--noprofile"],
      });
      expect(String(started.holderPid)).toBe(warm);
      const client = await attach(driver, "pty-f");
      client.connection.write("echo warm-$((3*3))\r");
      await client.waitFor("warm-9");
      client.connection.close();

      const unused = await sandbox("pty-g");
      driver.prewarmPty!("pty-g", "tui");
      await until(() => holdersIn(unused).length === 1 || undefined);
      await driver.stop("pty-g", { graceMs: 0 });
      await until(() => holdersIn(unused).length === 0 || undefined);
    },
  );

  it.skipIf(!available)("refuses bad names and stopped sandboxes", async () => {
    await expect(driver.startPty("nope", { name: "tui", argv: ["bash"] })).rejects.toThrow(/No sandbox/);
    await sandbox("pty-d");
    await expect(driver.startPty("pty-d", { name: "../x", argv: ["bash"] })).rejects.toThrow(
      /Invalid terminal name/,
    );
    await expect(driver.attachPty("pty-d", "tui", {})).rejects.toThrow(/No terminal/);
  });
});
