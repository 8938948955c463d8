import os from "node:os";

import { getSessionRow, updateSession } from "@/db/queries/sessions";
import { log } from "@/lib/log";
import { processSlot } from "@/lib/process-slot";
import { runtime } from "@/lib/runtime";
import type { BootTimings } from "@/lib/sandbox/boot/watch";

import { appendEvent } from "./events";
import { sessionManager } from "./manager";

/*
 * How many sandboxes boot at once on this host. A harness's boot is mostly CPU (opencode's runtime
 * starting, the SDK's CLI loading), so boots beyond what the machine's cores can run only make every
 * one of them slower: a burst of cold sessions beside the pool's refills once took each over a minute.
 * A boot takes a permit; sessions come before the pool's refills (a refill takes one only when it is
 * free and no session waits), and a session that has to wait says so in its phase detail. A permit
 * is given back when the boot settles (ready, failed) or after HOLD_MS at the latest, so a long
 * requirements install or a stuck sandbox does not hold up the sandboxes behind it.
 */

/** Gives the permit back (idempotent). */
export type Release = () => void;

type Waiter = { grant: (release: Release) => void; queued: (ahead: number, running: number) => void };

/** A boot holds its permit this long at most. */
const HOLD_MS = 60_000;

export class BootPermits {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  /** Called when a permit is free and no session waits for it: the pool refills (pool.ts sets it). */
  freed: () => void = () => {};

  /** @param capacity boots at once (read on every call) */
  constructor(private readonly capacity: () => number) {}

  /** Sessions waiting for a permit. */
  get queued() {
    return this.waiting.length;
  }

  /** A permit for a pool refill: only when one is free and no session waits; else null. */
  tryTake(): Release | null {
    if (this.waiting.length > 0 || this.running >= this.capacity()) return null;
    return this.grant();
  }

  /**
   * A permit for a session's boot: at once when one is free, else once the boots ahead of it are
   * done. `queued` hears its place whenever it changes (sessions ahead of it, boots running).
   */
  take(queued: Waiter["queued"]): Promise<Release> {
    if (this.waiting.length === 0 && this.running < this.capacity()) return Promise.resolve(this.grant());
    return new Promise((grant) => {
      this.waiting.push({ grant, queued });
      queued(this.waiting.length - 1, this.running);
    });
  }

  private grant(): Release {
    this.running += 1;
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.running -= 1;
      this.next();
    };
    const timer = setTimeout(release, HOLD_MS);
    timer.unref();
    return release;
  }

  private next() {
    while (this.waiting.length > 0 && this.running < this.capacity()) {
      this.waiting.shift()!.grant(this.grant());
      this.waiting.forEach((w, i) => w.queued(i, this.running));
    }
    if (this.waiting.length === 0 && this.running < this.capacity()) this.freed();
  }
}

/**
 * Boots at once on this host: HANGAR_BOOT_CONCURRENCY, or twice the cores (at least 2) when it is 0.
 * Sandboxes of a remote driver boot on the cluster's nodes, so there is no host limit for them.
 */
export function bootCapacity(): number {
  if (sessionManager().driver.sandboxNetwork) return Infinity;
  const set = runtime().config.HANGAR_BOOT_CONCURRENCY;
  return set > 0 ? set : Math.max(2, 2 * os.availableParallelism());
}

/** This process's boot permits (sessions' cold boots and the pool's refills share them). */
export function bootPermits(): BootPermits {
  return processSlot("boot-permits", () => new BootPermits(bootCapacity));
}

/**
 * A boot permit for a session's cold boot: at once when the host has one free, else after the boots
 * ahead of it, the wait shown in its phase detail (and a phase event) and timed as `queued`. Null when
 * the session was stopped while it waited (its permit is given back at once).
 */
export async function sessionBootPermit(sessionId: string, timings: BootTimings): Promise<Release | null> {
  const since = Date.now();
  const queue = { shown: null as Promise<void> | null };
  const release = await bootPermits().take((ahead, running) => {
    const detail = `queued: ${running} sandboxes booting${ahead > 0 ? `, ${ahead} sessions ahead` : ""}`;
    queue.shown = (queue.shown ?? Promise.resolve())
      .then(async () => {
        const live = await updateSession(sessionId, { phaseDetail: detail }, { onlyIfLive: true });
        if (live) await appendEvent(sessionId, "phase", { phase: "creating_sandbox", detail });
      })
      .catch((err: unknown) =>
        log.warn("could not show a session's place in the boot queue", { sessionId, err }),
      );
  });
  if (!queue.shown) return release;
  await queue.shown;
  timings.queued = Date.now() - since;
  const now = await getSessionRow(sessionId).catch(() => null);
  if (now?.status === "creating") {
    await updateSession(sessionId, { phaseDetail: null, timings }, { onlyIfLive: true });
    return release;
  }
  release();
  return null;
}
