import fs from "node:fs";
import path from "node:path";

import type { Config } from "@/lib/config";
import { harnessLaunch } from "@/lib/harness";
import { newId } from "@/lib/ids";
import { log } from "@/lib/log";
import { processSlot } from "@/lib/process-slot";
import { runtime } from "@/lib/runtime";
import { sandboxNetwork, sandboxPorts, warmBootSpec, type SandboxPorts } from "@/lib/sandbox/boot/spec";
import { watchBoot } from "@/lib/sandbox/boot/watch";
import { sessionPaths } from "@/lib/sandbox/layout";
import type { SandboxHandle } from "@/lib/sandbox/types";
import { HARNESS_IDS, type HarnessId } from "@/lib/schemas/harness";

import { bootPermits, type Release } from "./boot-permits";
import { harnessPassword } from "./harness-secrets";
import { prewarmTerminal, type WarmSandbox } from "./launch";
import { sessionManager } from "./manager";
import { sessionDir, sessionsRoot } from "./paths";
import { readyCheck, sandboxLaunchSpec } from "./sandbox-spec";

/*
 * The warm pool: per harness, sandboxes booted ahead of any session with the harness running and
 * nothing of any agent or session inside (no files, env, token, egress policy: the host listens for
 * none of it yet, so the sandbox reaches nothing). A new session of any agent claims one and binds it
 * late (launch.ts `bindSession`): the session takes the sandbox's id, and its files, skills, prompt,
 * MCP config, env, egress policy and model token arrive then. A claimed sandbox leaves the pool for
 * good, so nothing of one session can reach another; the pool refills in the background.
 *
 * A warm sandbox is marked by run/warm (host-only) until it is claimed: a restarted Hangar stops the
 * ones an earlier process left (they are no session's) and boots fresh ones.
 */

type Booted = NonNullable<Awaited<WarmSandbox["ready"]>>;

type Slot = Omit<WarmSandbox, "bound"> & {
  harnessId: HarnessId;
  ports: SandboxPorts;
  state: "booting" | "warm";
  /** Set once the driver launched it. */
  handle?: SandboxHandle;
  /** Ends its boot watch. */
  stop: () => void;
  /** Gives its boot permit back (./boot-permits.ts): once it is warm or failed. */
  release: Release;
  /** Settles `ready` (once): handle and ports when the harness answered, null when the boot failed. */
  settle: (booted: Booted | null) => void;
  settled: boolean;
};

type Pool = {
  slots: Slot[];
  /** Claimed while still booting: their boots still count against MAX_BOOTING. */
  claimedBooting: Set<Slot>;
  /** Failed boots in a row per harness: each one doubles the wait before the next try. */
  failures: Partial<Record<HarnessId, number>>;
  retryAt: Partial<Record<HarnessId, number>>;
  started: boolean;
  retryTimer?: NodeJS.Timeout;
};

/**
 * Refills booting at once, all harnesses together (each also needs one of the host's boot permits,
 * which sessions' cold boots get first): a warm boot competes with live sessions for the CPU.
 */
const MAX_BOOTING = 2;
/** The longest a refill waits for the session that claimed a sandbox to settle. */
const REFILL_AFTER_CLAIM_MS = 10_000;
const RETRY_MS = 5000;
const RETRY_MAX_MS = 5 * 60_000;
const MARKER = "warm";

const pool = processSlot<Pool>("pool", () => ({
  slots: [],
  claimedBooting: new Set(),
  failures: {},
  retryAt: {},
  started: false,
}));

const SIZE_KEYS = {
  opencode: "HANGAR_POOL_OPENCODE",
  "claude-agent-sdk": "HANGAR_POOL_CLAUDE_AGENT_SDK",
  "claude-code": "HANGAR_POOL_CLAUDE_CODE",
  codex: "HANGAR_POOL_CODEX",
} as const satisfies Record<HarnessId, keyof Config>;

export function poolSize(harnessId: HarnessId): number {
  return runtime().config[SIZE_KEYS[harnessId]];
}

function markerFile(id: string) {
  return path.join(sessionPaths(sessionDir(id)).run, MARKER);
}

/** Stops a warm sandbox and removes everything it had (it was never a session's). */
async function discard(slot: Pick<Slot, "id">) {
  await sessionManager()
    .driver.stop(slot.id)
    .catch(() => undefined);
  fs.rmSync(sessionDir(slot.id), { recursive: true, force: true });
}

function failed(slot: Slot, reason: string) {
  if (slot.settled) return;
  slot.release();
  slot.settle(null);
  slot.stop();
  // A claimed one is its session's now: the session boots cold in it (launch.ts bindSession).
  if (pool.claimedBooting.delete(slot)) return fill();
  pool.slots = pool.slots.filter((s) => s !== slot);
  const failures = (pool.failures[slot.harnessId] ?? 0) + 1;
  pool.failures[slot.harnessId] = failures;
  const wait = Math.min(RETRY_MS * 2 ** (failures - 1), RETRY_MAX_MS);
  pool.retryAt[slot.harnessId] = Date.now() + wait;
  log.warn("a warm sandbox did not boot", { harnessId: slot.harnessId, reason, retryInMs: wait });
  void discard(slot);
  clearTimeout(pool.retryTimer);
  pool.retryTimer = setTimeout(() => fill(), wait);
  pool.retryTimer.unref();
}

/** Boots one warm sandbox for `harnessId`; it joins the pool as `booting`, then `warm`. */
async function bootOne(harnessId: HarnessId, release: Release) {
  const driver = sessionManager().driver;
  const id = newId("session");
  // In the pool from the start (fill() counts it), ports filled in before anything uses them.
  let settle: (booted: Booted | null) => void = () => {};
  const ready = new Promise<Booted | null>((resolve) => (settle = resolve));
  const slot: Slot = {
    id,
    ports: { egress: 0, model: 0, harness: 0 },
    harnessId,
    state: "booting",
    stop: () => {},
    release,
    ready,
    settled: false,
    settle: (booted) => {
      slot.settled = true;
      settle(booted);
    },
  };
  pool.slots.push(slot);
  try {
    const ports: SandboxPorts = await sandboxPorts(driver);
    slot.ports = ports;
    const network = sandboxNetwork(driver, id, ports);
    const harness = harnessLaunch(harnessId, {
      model: "",
      prompt: "",
      serverPassword: harnessPassword(id),
      modelBase: network.modelBase,
      modelToken: "",
      port: ports.harness,
    });
    fs.mkdirSync(path.dirname(markerFile(id)), { recursive: true, mode: 0o700 });
    fs.writeFileSync(markerFile(id), "", { mode: 0o600 });
    const started = Date.now();
    slot.handle = await driver.launch(
      sandboxLaunchSpec(id, warmBootSpec(harness, ports, network), ports, harness.serves, {}),
    );
    if (harness.tui) prewarmTerminal(id);
    const watcher = watchBoot(
      {
        sessionId: id,
        sessionDir: sessionDir(id),
        driver,
        check: { ...readyCheck(harnessId, id), warm: true },
        started,
        timings: {},
        phase: null,
        ready: false,
      },
      {
        phase: async () => {},
        waiting: async () => {},
        confirmed: async () => true,
        ready: async (timings) => {
          slot.release();
          slot.state = "warm";
          pool.failures[harnessId] = 0;
          log.info("warm sandbox ready", { harnessId, sessionId: id, ms: timings.total });
          if (pool.claimedBooting.delete(slot)) slot.stop();
          slot.settle(slot.handle ? { handle: slot.handle, ports: slot.ports } : null);
          fill();
        },
        failed: async (reason) => failed(slot, reason),
        exited: async (reason) => failed(slot, reason),
      },
    );
    slot.stop = watcher.stop;
  } catch (err) {
    failed(slot, (err as Error).message);
  }
}

/** Tops every harness's pool up to its size, a few boots at a time (idempotent; cheap to call). */
export function fill() {
  if (!pool.started) return;
  for (;;) {
    const booting = pool.slots.filter((s) => s.state === "booting").length + pool.claimedBooting.size;
    if (booting >= MAX_BOOTING) return;
    const now = Date.now();
    const short = HARNESS_IDS.find(
      (id) =>
        pool.slots.filter((s) => s.harnessId === id).length < poolSize(id) && (pool.retryAt[id] ?? 0) <= now,
    );
    if (!short) return;
    const release = bootPermits().tryTake();
    if (!release) return;
    void bootOne(short, release);
  }
}

/**
 * A sandbox of the pool for a new session of `harnessId`, out of the pool for good (its id becomes
 * the session's): a warm one, else one still booting (the session binds it once it is warm, which
 * is sooner than a boot of its own, and no second boot competes for the CPU), else one the pool starts
 * for it now, else undefined (the pool is off, backing off, or at its boot limit). The pool refills
 * behind it once the claim settles (`bound`).
 */
export function claimWarm(harnessId: HarnessId): WarmSandbox | undefined {
  const find = () => {
    const mine = pool.slots.filter((s) => s.harnessId === harnessId);
    return mine.find((s) => s.state === "warm") ?? mine.find((s) => s.state === "booting");
  };
  // None left (refills wait for earlier claims to settle): a session asking is reason to start one.
  let slot = find();
  if (!slot) fill();
  slot ??= find();
  if (!slot) return undefined;
  pool.slots = pool.slots.filter((s) => s !== slot);
  if (slot.state === "warm") slot.stop();
  else pool.claimedBooting.add(slot);
  fs.rmSync(markerFile(slot.id), { force: true });
  // The refill waits for the claimed session to settle (or REFILL_AFTER_CLAIM_MS at most): a boot
  // started now would take the CPU from the bind, which is the session's start.
  let refilled = false;
  const bound = () => {
    if (refilled) return;
    refilled = true;
    clearTimeout(timer);
    fill();
  };
  const timer = setTimeout(bound, REFILL_AFTER_CLAIM_MS);
  timer.unref();
  // Not slot.ports: a slot still booting may not have its ports yet; `ready` brings them.
  return { id: slot.id, ready: slot.ready, bound };
}

/** A claimed sandbox the session could not use after all (its row was never written). */
export async function releaseClaimed(warm: WarmSandbox) {
  warm.bound();
  await warm.ready;
  await discard(warm);
}

/**
 * Called once at start, after the sessions were reconciled: stops the warm sandboxes an earlier
 * process left, then fills the pool.
 */
export async function startPool() {
  let names: string[] = [];
  try {
    names = fs.readdirSync(sessionsRoot());
  } catch {
    // No sessions folder yet.
  }
  for (const name of names) {
    if (fs.existsSync(markerFile(name))) await discard({ id: name });
  }
  pool.started = true;
  bootPermits().freed = fill;
  fill();
}

/** Stops every warm sandbox (server shutdown, tests); claimed ones are sessions and are left alone. */
export async function stopPool() {
  pool.started = false;
  clearTimeout(pool.retryTimer);
  const slots = pool.slots;
  pool.slots = [];
  for (const slot of slots) {
    slot.stop();
    slot.release();
    slot.settle(null);
  }
  await Promise.all(slots.map(discard));
}
