import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import path from "node:path";

import type { KubeObject } from "./selectors";

/*
 * What the stand-in kubelet knows of a pod it runs: one record per pod, one per container in it, and
 * each container's log as it was written.
 */

export const NODE_NAME = "standin-node";

export type LogLine = { time: Date; text: string };

export type ContainerRun = {
  name: string;
  init: boolean;
  image: string;
  state: "waiting" | "running" | "terminated";
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oom?: boolean;
  child?: ChildProcess;
  env: Record<string, string>;
  workingDir?: string;
  lines: LogLine[];
  partial: Record<"stdout" | "stderr", string>;
  events: EventEmitter<{ line: [LogLine]; end: [] }>;
};

export type PodRun = {
  uid: string;
  namespace: string;
  name: string;
  sessionId: string;
  sessionDir: string;
  volumesDir: string;
  /** Memory-medium emptyDirs: memory on this host, as on a node. */
  memoryDir: string;
  podIP?: string;
  scheduled: boolean;
  sandbox: boolean;
  containers: ContainerRun[];
  ports: number[];
  stopping?: Promise<void>;
  unschedulable?: string;
};

/** A timestamp as the API server writes them: whole seconds. */
export const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

/** The record of a pod just seen, nothing started: its sandbox would be a session under `root`. */
export function newPodRun(pod: KubeObject, root: string): PodRun {
  const uid = pod.metadata.uid!;
  const sessionId = `p-${uid.replaceAll("-", "").slice(0, 12)}`;
  const containers = (list: any[] | undefined, init: boolean): ContainerRun[] =>
    (list ?? []).map((c) => ({
      name: c.name,
      init,
      image: c.image ?? "",
      state: "waiting",
      reason: init || (pod.spec.initContainers ?? []).length > 0 ? "PodInitializing" : "ContainerCreating",
      env: {},
      lines: [],
      partial: { stdout: "", stderr: "" },
      events: new EventEmitter(),
    }));
  return {
    uid,
    namespace: pod.metadata.namespace!,
    name: pod.metadata.name!,
    sessionId,
    sessionDir: path.join(root, sessionId),
    volumesDir: path.join(root, `${sessionId}-volumes`),
    memoryDir: path.join("/dev/shm", `hangar-standin-${sessionId}`),
    scheduled: false,
    sandbox: false,
    containers: [...containers(pod.spec.initContainers, true), ...containers(pod.spec.containers, false)],
    ports: [
      ...new Set<number>(
        [...(pod.spec.initContainers ?? []), ...pod.spec.containers].flatMap((c: any) =>
          (c.ports ?? []).map((p: any) => Number(p.containerPort)),
        ),
      ),
    ],
  };
}
