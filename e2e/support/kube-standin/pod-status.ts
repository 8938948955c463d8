import { now, type ContainerRun, type PodRun } from "./pod-run";

/*
 * A pod's status as the kubelet reports it, from what runs: phase, conditions (keeping the transition
 * times of unchanged ones), the init and main containers' statuses, host and pod IPs.
 */

/** Succeeded or Failed once the containers are over; Running once one has started; Pending before. */
function podPhase(run: PodRun): string {
  const mains = run.containers.filter((c) => !c.init);
  const initFailed = run.containers.some((c) => c.init && c.state === "terminated" && c.exitCode !== 0);
  if (initFailed) return "Failed";
  if (mains.every((c) => c.state === "terminated"))
    return mains.every((c) => c.exitCode === 0) ? "Succeeded" : "Failed";
  return mains.some((c) => c.state === "running" || c.state === "terminated") ? "Running" : "Pending";
}

function containerStatus(run: PodRun, c: ContainerRun) {
  return {
    name: c.name,
    image: c.image,
    imageID: "",
    ...(c.state !== "waiting" && { containerID: `standin://${run.sessionId}-${c.name}` }),
    ready: c.state === "running",
    started: c.state === "running",
    restartCount: 0,
    state:
      c.state === "waiting"
        ? { waiting: { reason: c.reason, ...(c.message && { message: c.message }) } }
        : c.state === "running"
          ? { running: { startedAt: c.startedAt } }
          : {
              terminated: {
                exitCode: c.exitCode,
                reason: c.reason,
                startedAt: c.startedAt,
                finishedAt: c.finishedAt,
                containerID: `standin://${run.sessionId}-${c.name}`,
              },
            },
    lastState: {},
  };
}

/** PodScheduled, and once scheduled Initialized, ContainersReady and Ready. */
function podConditions(run: PodRun, phase: string, previous: Map<string, any>) {
  const condition = (type: string, ok: boolean, reason?: string, message?: string) => {
    const old = previous.get(type);
    const value = ok ? "True" : "False";
    return {
      type,
      status: value,
      ...(reason && { reason }),
      ...(message && { message }),
      lastProbeTime: null,
      lastTransitionTime: old?.status === value ? old.lastTransitionTime : now(),
    };
  };
  if (run.unschedulable !== undefined)
    return [condition("PodScheduled", false, "Unschedulable", run.unschedulable)];
  if (!run.scheduled) return [condition("PodScheduled", true)];
  const inits = run.containers.filter((c) => c.init);
  const mains = run.containers.filter((c) => !c.init);
  const initFailed = inits.some((c) => c.state === "terminated" && c.exitCode !== 0);
  const initialized = inits.every((c) => c.state === "terminated" && c.exitCode === 0);
  const notReady = mains.filter((c) => c.state !== "running").map((c) => c.name);
  const terminal = phase === "Succeeded" || phase === "Failed";
  const readyReason = terminal ? "PodCompleted" : "ContainersNotReady";
  const readyMessage = terminal ? undefined : `containers with unready status: [${notReady.join(" ")}]`;
  const ready = (type: string) =>
    condition(
      type,
      notReady.length === 0,
      notReady.length === 0 ? undefined : readyReason,
      notReady.length === 0 ? undefined : readyMessage,
    );
  return [
    condition("PodScheduled", true),
    condition(
      "Initialized",
      initialized || initFailed ? !initFailed : false,
      initialized ? undefined : "ContainersNotInitialized",
      initialized
        ? undefined
        : `containers with incomplete status: [${inits
            .filter((c) => c.state !== "terminated")
            .map((c) => c.name)
            .join(" ")}]`,
    ),
    ready("ContainersReady"),
    ready("Ready"),
  ];
}

/** The pod's new status from its run and its current status. */
export function podStatus(run: PodRun, status: any) {
  const previous = new Map<string, any>((status.conditions ?? []).map((c: any) => [c.type, c]));
  const inits = run.containers.filter((c) => c.init);
  const mains = run.containers.filter((c) => !c.init);
  const phase = podPhase(run);
  return {
    ...status,
    phase: run.unschedulable !== undefined ? "Pending" : phase,
    conditions: podConditions(run, phase, previous),
    ...(run.scheduled && { hostIP: "127.0.0.1", hostIPs: [{ ip: "127.0.0.1" }] }),
    ...(run.podIP && { podIP: run.podIP, podIPs: [{ ip: run.podIP }] }),
    ...(run.scheduled && !status.startTime && { startTime: now() }),
    ...(inits.length > 0 &&
      run.scheduled && { initContainerStatuses: inits.map((c) => containerStatus(run, c)) }),
    ...(run.scheduled && { containerStatuses: mains.map((c) => containerStatus(run, c)) }),
    qosClass: status.qosClass ?? "BestEffort",
  };
}
