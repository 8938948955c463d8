/*
 * Login attempts per client: a token bucket of BURST attempts, refilled at PER_MINUTE a minute. An
 * attempt pays when it starts (so thirty parallel guesses pay thirty times, before any of them is
 * checked) and a wrong key pays once more when it fails. An empty bucket refuses every attempt, the
 * right key included, until a token comes back. The buckets live in this process: each replica counts
 * on its own, and a restart forgets them.
 */

import { processSlot } from "@/lib/process-slot";

export const LOGIN_BURST = 20;
export const LOGIN_PER_MINUTE = 10;
const MS_PER_TOKEN = 60_000 / LOGIN_PER_MINUTE;
const MAX_CLIENTS = 10_000;

type Bucket = { tokens: number; at: number };

const buckets = processSlot("login-buckets", () => new Map<string, Bucket>());

function current(client: string, now: number): Bucket {
  const bucket = buckets.get(client) ?? { tokens: LOGIN_BURST, at: now };
  bucket.tokens = Math.min(LOGIN_BURST, bucket.tokens + (now - bucket.at) / MS_PER_TOKEN);
  bucket.at = now;
  return bucket;
}

/** Forgets clients whose bucket has refilled, so many addresses cannot grow the map for ever. */
function sweep(now: number) {
  for (const [client, bucket] of buckets) {
    if (bucket.tokens + (now - bucket.at) / MS_PER_TOKEN >= LOGIN_BURST) buckets.delete(client);
  }
  // Still full of live buckets (a flood of addresses): drop the oldest; they were the least active.
  for (const client of buckets.keys()) {
    if (buckets.size < MAX_CLIENTS) break;
    buckets.delete(client);
  }
}

/**
 * Takes one attempt for `client`. Returns null when allowed, else the seconds until the next one is
 * (for Retry-After).
 */
export function takeLoginAttempt(client: string, now = Date.now()): number | null {
  if (buckets.size >= MAX_CLIENTS && !buckets.has(client)) sweep(now);
  const bucket = current(client, now);
  buckets.delete(client);
  buckets.set(client, bucket); // Map order is least recently used first, for sweep.
  if (bucket.tokens < 1) return Math.max(1, Math.ceil((1 - bucket.tokens) * (MS_PER_TOKEN / 1000)));
  bucket.tokens -= 1;
  return null;
}

/** A wrong key costs one more attempt (never below empty). */
export function chargeFailedLogin(client: string, now = Date.now()) {
  const bucket = current(client, now);
  bucket.tokens = Math.max(0, bucket.tokens - 1);
  buckets.set(client, bucket);
}
