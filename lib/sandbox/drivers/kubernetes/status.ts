/*
 * What a sandbox's Kubernetes objects say about it, from the real signals only: the Sandbox's
 * conditions (agent-sandbox has no `phase`), the pod's conditions and its containers' states. Pure, so
 * every failure a cluster can report has a unit test and a sentence a user can act on.
 */

import { CONTAINER } from "./objects";

type Condition = { type: string; status: string; reason?: string; message?: string };
type ContainerState = {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode: number; reason?: string; message?: string; finishedAt?: string };
};
type ContainerStatus = { name: string; image?: string; state?: ContainerState };

export type PodLike = {
  metadata?: { name?: string; deletionTimestamp?: string | Date; creationTimestamp?: string | Date };
  spec?: { containers?: { name: string; image?: string; resources?: { limits?: Record<string, string> } }[] };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    startTime?: string | Date;
  };
};

export type SandboxLike = {
  metadata?: { name?: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  status?: { conditions?: Condition[]; podIPs?: string[]; serviceFQDN?: string };
};

export type ObservedState = {
  state: "starting" | "running" | "exited";
  /** Why it exited or cannot start, in words a user can act on. */
  reason?: string;
  /** Still starting, but stuck on something worth showing (unschedulable, pulling). */
  waiting?: string;
  exitCode?: number;
  exitedAt?: string;
};

/** Waiting reasons a container never recovers from without a change by a person. */
const FATAL_WAITING = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
]);

function condition(list: Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

function clip(text: string | undefined): string {
  const line = (text ?? "").replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function waitingReason(status: ContainerStatus, image: string | undefined): string | undefined {
  const waiting = status.state?.waiting;
  if (!waiting?.reason || !FATAL_WAITING.has(waiting.reason)) return undefined;
  const detail = clip(waiting.message);
  if (/Image|Pull/.test(waiting.reason)) {
    return `the sandbox image ${image ?? status.image ?? ""} could not be pulled (${waiting.reason}${detail ? `: ${detail}` : ""})`;
  }
  return `the ${status.name} container could not start (${waiting.reason}${detail ? `: ${detail}` : ""})`;
}

function terminatedReason(status: ContainerStatus, pod: PodLike): ObservedState {
  const done = status.state!.terminated!;
  const limit = pod.spec?.containers?.find((c) => c.name === status.name)?.resources?.limits?.memory;
  const reason =
    done.reason === "OOMKilled"
      ? `the sandbox ran out of memory (OOMKilled${limit ? `, limit ${limit}` : ""})`
      : done.exitCode === 0
        ? "the sandbox's main process ended"
        : `the sandbox's main process exited with code ${done.exitCode}${done.reason && done.reason !== "Error" ? ` (${done.reason})` : ""}`;
  return { state: "exited", reason, exitCode: done.exitCode, exitedAt: done.finishedAt };
}

/** The pod's view: the source of truth in both modes (a Sandbox's pod carries the container states). */
export function observePod(pod: PodLike): ObservedState {
  const status = pod.status ?? {};
  const image = pod.spec?.containers?.find((c) => c.name === CONTAINER)?.image;
  for (const init of status.initContainerStatuses ?? []) {
    const fatal = waitingReason(init, image);
    if (fatal) return { state: "exited", reason: fatal };
    const done = init.state?.terminated;
    if (done && done.exitCode !== 0) {
      return {
        state: "exited",
        reason: `the sandbox could not be prepared (${init.name} exited with code ${done.exitCode}${done.message ? `: ${clip(done.message)}` : ""})`,
        exitCode: done.exitCode,
      };
    }
  }
  const main = status.containerStatuses?.find((c) => c.name === CONTAINER);
  if (main?.state?.terminated) return terminatedReason(main, pod);
  if (main) {
    const fatal = waitingReason(main, image);
    if (fatal) return { state: "exited", reason: fatal };
  }
  if (status.phase === "Failed" || status.phase === "Succeeded") {
    const reason =
      status.reason === "DeadlineExceeded"
        ? "the sandbox reached its time limit"
        : status.reason === "Evicted"
          ? `the sandbox was evicted from its node${status.message ? `: ${clip(status.message)}` : ""}`
          : `the sandbox pod ${status.phase === "Failed" ? "failed" : "ended"}${status.message ? `: ${clip(status.message)}` : ""}`;
    return { state: "exited", reason };
  }
  if (pod.metadata?.deletionTimestamp) return { state: "exited", reason: "the sandbox pod is being deleted" };
  const scheduled = condition(status.conditions, "PodScheduled");
  if (scheduled?.status === "False") {
    return {
      state: "starting",
      waiting: `waiting for a node: ${clip(scheduled.message) || scheduled.reason || "unschedulable"}`,
    };
  }
  if (main?.state?.running) return { state: "running" };
  const pulling = main?.state?.waiting?.reason;
  return pulling && pulling !== "ContainerCreating" && pulling !== "PodInitializing"
    ? {
        state: "starting",
        waiting: `${pulling}${main?.state?.waiting?.message ? `: ${clip(main.state.waiting.message)}` : ""}`,
      }
    : { state: "starting" };
}

/** A Sandbox's conditions, with its pod (when there is one) for container detail. */
export function observeSandbox(sandbox: SandboxLike, pod: PodLike | null): ObservedState {
  const conditions = sandbox.status?.conditions;
  const ready = condition(conditions, "Ready");
  const finished = condition(conditions, "Finished");
  if (pod) {
    const seen = observePod(pod);
    if (seen.state === "exited") return seen;
  }
  if (ready?.reason === "SandboxExpired")
    return { state: "exited", reason: "the sandbox reached its time limit" };
  if (ready?.reason === "SandboxSuspended") return { state: "exited", reason: "the sandbox was suspended" };
  if (finished?.status === "True") {
    return {
      state: "exited",
      reason:
        finished.reason === "PodSucceeded" ? "the sandbox's main process ended" : "the sandbox pod failed",
    };
  }
  if (ready?.status === "True") return { state: "running" };
  if (sandbox.metadata?.deletionTimestamp) return { state: "exited", reason: "the sandbox is being deleted" };
  if (pod) return observePod(pod);
  const scheduled = condition(conditions, "PodScheduled");
  if (scheduled?.status === "False") {
    return {
      state: "starting",
      waiting: `waiting for a node: ${clip(scheduled.message) || scheduled.reason}`,
    };
  }
  if (ready?.reason === "ReconcilerError" || ready?.reason === "MultiplePods") {
    return {
      state: "starting",
      waiting: `agent-sandbox: ${ready.reason}${ready.message ? `: ${clip(ready.message)}` : ""}`,
    };
  }
  return { state: "starting" };
}

/** The pod of a Sandbox: its own name, unless it adopted a warm-pool pod (then named in an annotation). */
export function sandboxPodName(sandbox: SandboxLike, fallback: string): string {
  return sandbox.metadata?.annotations?.["agents.x-k8s.io/pod-name"] ?? fallback;
}
