import { randomBytes } from "node:crypto";

import { beat, forgetReplicasBefore, replicasSeenSince } from "@/db/queries/replicas";
import { log } from "@/lib/log";
import { processSlot } from "@/lib/process-slot";

/*
 * Each Hangar process's identity and heartbeat. Several web replicas share one database; a turn
 * records the replica running it, so a replica that starts (or sweeps) closes only the turns of
 * replicas that stopped beating, never one another live replica is running.
 */

const BEAT_MS = 10_000;
/** A replica not seen for this long is gone. */
export const REPLICA_TIMEOUT_MS = 35_000;

type Slot = { id: string; timer?: NodeJS.Timeout };
const slot = processSlot<Slot>("replica", () => ({ id: `rep_${randomBytes(8).toString("hex")}` }));

export function replicaId(): string {
  return slot.id;
}

export async function startHeartbeat() {
  await beat(slot.id);
  slot.timer ??= setInterval(() => {
    void beat(slot.id)
      .then(() => forgetReplicasBefore(new Date(Date.now() - 24 * 3600_000)))
      .catch((err: unknown) => log.warn("replica heartbeat failed", { err }));
  }, BEAT_MS);
  slot.timer.unref();
}

/** The replicas alive now, this one included. */
export async function liveReplicas(): Promise<Set<string>> {
  const alive = await replicasSeenSince(new Date(Date.now() - REPLICA_TIMEOUT_MS));
  alive.add(slot.id);
  return alive;
}
