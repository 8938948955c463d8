import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import net from "node:net";
import path from "node:path";

import type { LocalDriver } from "@/lib/sandbox/drivers/local";
import { sessionPaths } from "@/lib/sandbox/layout";
import type { Bridge } from "@/lib/sandbox/types";

import type { LogOptions, LogSource } from "./http";
import { resolveEnv } from "./pod-env";
import { appendLog, writeLog } from "./pod-logs";
import { newPodRun, NODE_NAME, now, type ContainerRun, type PodRun } from "./pod-run";
import { podStatus } from "./pod-status";
import { prepareVolumes } from "./pod-volumes";
import { typeOfKind } from "./resources";
import type { KubeObject } from "./selectors";
import { errors, StatusError } from "./status";
import type { Store, StoreEvent } from "./store";

/*
 * The kubelet: runs each scheduled Pod as real processes on this machine.
 *
 * A pod is one bubblewrap sandbox of Hangar's local driver whose main process only waits (the "pause"
 * container); every container, init containers first and one after another, is a process started in
 * it with the driver's spawn. So, as in a real pod, the containers share one network namespace
 * (127.0.0.1 is the pod), pid namespace and mounts. What is real: the processes, their exit codes, their
 * output (the pod log), exec, signals, the network isolation, volumes as bind mounts. What is not: images
 * (every container sees the host's root read-only), restarts (every pod behaves as restartPolicy Never,
 * whatever it says), probes (a container is Ready once started), resource limits (ignored), IPs (a fake
 * 10.244.x.y is reported; the pod is reachable only through port-forward of a declared containerPort).
 *
 * Volumes (pod-volumes.ts): emptyDir, secret and configMap, and the pod's /etc/resolv.conf and
 * /etc/hosts when its spec asks for them; other pods see the host's files. All containers' volumeMounts
 * are mounted in the shared sandbox (a path mounted differently by two containers gets the first one).
 * bubblewrap can only create a mount point where it can write: under /tmp, /home, /run, /srv, /mnt, or
 * a path that exists on the host. The same holds for a missing workingDir, which is created at start.
 *
 * The rest of it, in this folder: pod-run.ts (what it knows of a pod), pod-env.ts (container
 * environments), pod-logs.ts (container logs), pod-status.ts (the status it reports).
 */

export { NODE_NAME } from "./pod-run";

const PAUSE = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"];

export type KubeletOptions = {
  store: Store;
  driver: LocalDriver;
  /** Inside every pod, 127.0.0.1:port reaches this host Unix socket. */
  clusterServices: Bridge[];
};

const podType = () => typeOfKind("Pod")!;

export class Kubelet implements LogSource {
  private readonly store: Store;
  private readonly driver: LocalDriver;
  private readonly clusterServices: Bridge[];
  private readonly pods = new Map<string, PodRun>();
  private readonly imagePullFailures = new Map<string, string>();
  private readonly unschedulable = new Map<string, string>();
  private readonly listener = (e: StoreEvent) => this.onEvent(e);
  private readonly pending = new Set<Promise<unknown>>();

  constructor(options: KubeletOptions) {
    this.store = options.store;
    this.driver = options.driver;
    this.clusterServices = options.clusterServices;
    this.store.gracefulPods = true;
    this.store.on("event", this.listener);
  }

  /** Pods whose name or any container image matches never start: ErrImagePull, then ImagePullBackOff. */
  failImagePull(podNameOrImage: string, message: string) {
    this.imagePullFailures.set(podNameOrImage, message);
  }

  /** A pod of this name (created from now on) stays Pending with PodScheduled False/Unschedulable. */
  makeUnschedulable(podName: string, message: string) {
    this.unschedulable.set(podName, message);
  }

  /** Kills a running container as the kernel's OOM killer would: terminated, OOMKilled, exit code 137. */
  oomKill(namespace: string, podName: string, containerName?: string) {
    const run = this.findRun(namespace, podName);
    const container = run?.containers.find(
      (c) => !c.init && c.state === "running" && (!containerName || c.name === containerName),
    );
    if (!container?.child) throw new Error(`No running container to OOM-kill in ${namespace}/${podName}`);
    container.oom = true;
    container.child.kill("SIGKILL");
  }

  async stop() {
    this.store.off("event", this.listener);
    // Marked first, so a pod still starting stops its own sandbox once launched.
    for (const run of this.pods.values()) run.stopping ??= Promise.resolve();
    await Promise.allSettled([...this.pods.values()].map((run) => this.stopSandbox(run, 0)));
    await Promise.allSettled([...this.pending]);
    // The other volumes live under the stand-in's temporary folder; these are in /dev/shm.
    for (const run of this.pods.values()) fs.rmSync(run.memoryDir, { recursive: true, force: true });
    this.pods.clear();
  }

  // -------------------------------------------------------------------------------------------------
  // Streams for the API server (logs, exec, port-forward)

  streamLogs(pod: KubeObject, options: LogOptions, res: ServerResponse, req: IncomingMessage) {
    const container = this.containerFor(pod, options.container);
    if (!container || container.state === "waiting") {
      const name = options.container ?? pod.spec.containers[0].name;
      throw errors.badRequest(
        `container "${name}" in pod "${pod.metadata.name}" is waiting to start: ${container?.reason ?? "ContainerCreating"}`,
      );
    }
    writeLog(container, options, res, req);
  }

  /** A process in a running container, with pipes; the caller reads its exit from `close`. */
  exec(pod: KubeObject, containerName: string | undefined, argv: string[]): ChildProcess {
    const run = this.findRun(pod.metadata.namespace!, pod.metadata.name!);
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") {
      throw errors.badRequest(
        `cannot exec into a container in a completed pod; current phase is ${pod.status.phase}`,
      );
    }
    const container = this.containerFor(pod, containerName);
    if (!run?.sandbox || !container || container.state !== "running") {
      throw errors.badRequest(
        `unable to upgrade connection: container not found ("${containerName ?? pod.spec.containers[0].name}")`,
      );
    }
    if (argv.length === 0) throw errors.badRequest("you must specify at least 1 command");
    return this.driver.spawn(run.sessionId, argv, { env: container.env, cwd: container.workingDir ?? "/" });
  }

  /** The container's main process, for attach (stdin only when the container asked for it). */
  attachTarget(pod: KubeObject, containerName: string | undefined): ContainerRun {
    const container = this.containerFor(pod, containerName);
    if (!container || container.state !== "running" || !container.child) {
      throw errors.badRequest(
        `unable to upgrade connection: container not found ("${containerName ?? pod.spec.containers[0].name}")`,
      );
    }
    return container;
  }

  /** A TCP connection to 127.0.0.1:port inside the pod (through the reverse bridge of a declared port). */
  connectPort(pod: KubeObject, port: number): net.Socket {
    const run = this.findRun(pod.metadata.namespace!, pod.metadata.name!);
    if (!run?.sandbox) throw errors.badRequest(`pod ${pod.metadata.name} is not running`);
    if (!run.ports.includes(port)) {
      throw errors.badRequest(
        `the stand-in can only forward declared containerPorts of pod ${pod.metadata.name} (${run.ports.join(", ") || "none"}), not ${port}`,
      );
    }
    return net.connect(this.portSocket(run, port));
  }

  // -------------------------------------------------------------------------------------------------

  private containerFor(pod: KubeObject, name: string | undefined): ContainerRun | undefined {
    const names = (pod.spec.containers as { name: string }[]).map((c) => c.name);
    if (name === undefined && names.length > 1) {
      throw errors.badRequest(
        `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(" ")}]`,
      );
    }
    const wanted = name ?? names[0];
    const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers] as { name: string }[];
    if (!all.some((c) => c.name === wanted)) {
      throw errors.badRequest(`container ${wanted} is not valid for pod ${pod.metadata.name}`);
    }
    return this.findRun(pod.metadata.namespace!, pod.metadata.name!)?.containers.find(
      (c) => c.name === wanted,
    );
  }

  private findRun(namespace: string, name: string): PodRun | undefined {
    return [...this.pods.values()].find((r) => r.namespace === namespace && r.name === name);
  }

  private portSocket(run: PodRun, port: number) {
    return path.join(sessionPaths(run.sessionDir).sock, `port-${port}.sock`);
  }

  private track<T>(promise: Promise<T>) {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }

  private onEvent(e: StoreEvent) {
    if (e.resource.kind !== "Pod") return;
    const pod = e.object;
    const uid = pod.metadata.uid!;
    if (e.type === "ADDED" && !this.pods.has(uid)) {
      this.track(this.runPod(pod).catch((err) => this.failPod(uid, "StandInError", (err as Error).message)));
    } else if (e.type === "MODIFIED" && pod.metadata.deletionTimestamp) {
      const run = this.pods.get(uid);
      if (run && !run.stopping) {
        run.stopping = this.terminate(run, (pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000);
        this.track(run.stopping);
      } else if (!run) this.store.finalize(podType(), pod.metadata.namespace, pod.metadata.name!);
    } else if (e.type === "DELETED") {
      const run = this.pods.get(uid);
      if (run)
        this.track(
          this.stopSandbox(run, 0).finally(() => {
            fs.rmSync(run.memoryDir, { recursive: true, force: true });
            this.pods.delete(uid);
          }),
        );
    }
  }

  private async runPod(pod: KubeObject) {
    const run = newPodRun(pod, this.driver.root);
    const { uid, sessionId } = run;
    this.pods.set(uid, run);

    const unschedulable = this.unschedulable.get(run.name);
    if (unschedulable !== undefined) {
      run.unschedulable = unschedulable;
      this.sync(run);
      this.store.recordEvent(pod, "Warning", "FailedScheduling", unschedulable, "default-scheduler");
      return;
    }
    run.scheduled = true;
    this.store.mutate(podType(), run.namespace, run.name, (p) => {
      p.spec.nodeName = NODE_NAME;
    });
    this.store.recordEvent(
      pod,
      "Normal",
      "Scheduled",
      `Successfully assigned ${run.namespace}/${run.name} to ${NODE_NAME}`,
      "default-scheduler",
    );
    this.sync(run);

    const pullFailure =
      this.imagePullFailures.get(run.name) ??
      run.containers.map((c) => this.imagePullFailures.get(c.image)).find((m) => m !== undefined);
    if (pullFailure !== undefined) return this.failPull(run, pod, pullFailure);

    let binds: { source: string; target: string; readOnly?: boolean }[];
    try {
      binds = prepareVolumes(this.store, run, pod);
    } catch (err) {
      const message = err instanceof StatusError ? err.status.message! : (err as Error).message;
      this.store.recordEvent(pod, "Warning", "FailedMount", message, "kubelet");
      return; // Stays ContainerCreating, as a pod with a missing secret does.
    }
    run.podIP = this.store.nextIp("10.244");
    try {
      await this.driver.launch({
        sessionId,
        sessionDir: run.sessionDir,
        argv: PAUSE,
        env: {},
        bridges: this.clusterServices,
        reverseBridges: run.ports.map((port) => ({ socketPath: this.portSocket(run, port), port })),
        // The "image" holds Hangar's install at the same path as the web process (as deploy/Dockerfile's
        // sandbox target does at /app), wherever this checkout lives: mounted last, so neither a folder
        // the sandbox hides (/root, /home) nor a pod volume (an emptyDir on /tmp) covers it.
        binds: [...binds, { source: process.cwd(), target: process.cwd(), readOnly: true }],
      });
    } catch (err) {
      for (const c of run.containers)
        Object.assign(c, { reason: "CreateContainerError", message: (err as Error).message });
      this.sync(run);
      this.store.recordEvent(pod, "Warning", "Failed", (err as Error).message, "kubelet");
      return;
    }
    run.sandbox = true;
    if (run.stopping) {
      // Deleted while starting: terminate() found no sandbox yet.
      await this.driver.stop(sessionId, { graceMs: 0, removeDir: true });
      return;
    }
    this.sync(run);

    const specs = new Map<string, any>(
      [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c: any) => [c.name, c]),
    );
    for (const c of run.containers.filter((c) => c.init)) {
      if (!this.startContainer(run, pod, c, specs.get(c.name))) return this.finishIfDone(run);
      await new Promise<void>((r) => c.events.once("end", () => r()));
      if (c.exitCode !== 0 || run.stopping) return this.finishIfDone(run);
    }
    for (const c of run.containers.filter((c) => !c.init))
      this.startContainer(run, pod, c, specs.get(c.name));
    this.finishIfDone(run);
  }

  /** An injected image pull failure: ErrImagePull, then ImagePullBackOff, as the kubelet retries. */
  private async failPull(run: PodRun, pod: KubeObject, message: string) {
    for (const c of run.containers.filter((c) => !c.init || c === run.containers[0])) {
      Object.assign(c, { reason: "ErrImagePull", message });
    }
    this.sync(run);
    this.store.recordEvent(
      pod,
      "Warning",
      "Failed",
      `Failed to pull image "${run.containers[0]!.image}": ${message}`,
      "kubelet",
    );
    await new Promise((r) => setTimeout(r, 300));
    for (const c of run.containers.filter((c) => c.reason === "ErrImagePull")) {
      Object.assign(c, {
        reason: "ImagePullBackOff",
        message: `Back-off pulling image "${c.image}": ${message}`,
      });
    }
    this.sync(run);
  }

  /** Starts a container's process; false when it cannot start (the container is then left waiting). */
  private startContainer(run: PodRun, pod: KubeObject, c: ContainerRun, spec: any): boolean {
    if (run.stopping) return false;
    const fail = (reason: string, message: string) => {
      Object.assign(c, { reason, message });
      this.sync(run);
      this.store.recordEvent(pod, "Warning", "Failed", `Error: ${message}`, "kubelet");
      return false;
    };
    try {
      c.env = resolveEnv(this.store, run, spec);
    } catch (err) {
      return fail("CreateContainerConfigError", (err as Error).message);
    }
    if (!spec.command?.length) {
      return fail(
        "CreateContainerError",
        `container ${c.name}: the stand-in has no image entrypoints; set command`,
      );
    }
    const argv = [...spec.command, ...(spec.args ?? [])].map(String);
    c.workingDir = spec.workingDir;
    // Container runtimes create a missing workingDir; so does this wrapper, then it execs the command.
    const wrapped = spec.workingDir
      ? ["/bin/sh", "-c", 'mkdir -p -- "$0" && cd -- "$0" && exec "$@"', spec.workingDir, ...argv]
      : argv;
    const child = this.driver.spawn(run.sessionId, wrapped, { env: c.env, cwd: "/" });
    c.child = child;
    Object.assign(c, { state: "running", reason: undefined, message: undefined, startedAt: now() });
    if (!spec.stdin) child.stdin?.end();
    child.stdin?.on("error", () => undefined);
    for (const stream of ["stdout", "stderr"] as const) {
      child[stream]!.on("data", (chunk: Buffer) => appendLog(c, stream, chunk.toString("utf8")));
    }
    child.on("close", (code, signal) => {
      for (const stream of ["stdout", "stderr"] as const) {
        if (c.partial[stream]) appendLog(c, stream, "\n");
      }
      const exitCode = c.oom
        ? 137
        : (code ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 1));
      Object.assign(c, {
        state: "terminated",
        exitCode,
        reason: c.oom ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error",
        finishedAt: now(),
        child: undefined,
      });
      c.events.emit("end");
      if (c.oom)
        this.store.recordEvent(
          pod,
          "Warning",
          "OOMKilling",
          `Memory cgroup out of memory: Killed process in container ${c.name}`,
          "kubelet",
        );
      this.sync(run);
      this.finishIfDone(run);
    });
    this.store.recordEvent(pod, "Normal", "Started", `Started container ${c.name}`, "kubelet");
    this.sync(run);
    return true;
  }

  /** Once no container runs or can still start, the pod is over: its sandbox goes. */
  private finishIfDone(run: PodRun) {
    const mains = run.containers.filter((c) => !c.init);
    const initFailed = run.containers.some((c) => c.init && c.state === "terminated" && c.exitCode !== 0);
    const stuck = run.containers.some(
      (c) => c.state === "waiting" && c.reason !== "PodInitializing" && c.reason !== "ContainerCreating",
    );
    const over = initFailed || mains.every((c) => c.state === "terminated");
    if (!over || stuck) {
      this.sync(run);
      return;
    }
    this.sync(run);
    if (!run.stopping) this.track(this.stopSandbox(run, 0));
  }

  private async terminate(run: PodRun, graceMs: number) {
    await this.stopSandbox(run, graceMs);
    for (const c of run.containers) {
      if (c.state === "running")
        Object.assign(c, { state: "terminated", exitCode: 137, reason: "Error", finishedAt: now() });
    }
    this.sync(run);
    fs.rmSync(run.volumesDir, { recursive: true, force: true });
    fs.rmSync(run.memoryDir, { recursive: true, force: true });
    this.pods.delete(run.uid);
    this.store.finalize(podType(), run.namespace, run.name);
  }

  private async stopSandbox(run: PodRun, graceMs: number) {
    if (!run.sandbox) return;
    run.sandbox = false;
    await this.driver.stop(run.sessionId, { graceMs, removeDir: false });
    // Wait for the container processes' pipes to close, so their exit is recorded.
    await Promise.all(
      run.containers
        .filter((c) => c.state === "running")
        .map(
          (c) => new Promise<void>((r) => (c.state === "running" ? c.events.once("end", () => r()) : r())),
        ),
    );
  }

  private failPod(uid: string, reason: string, message: string) {
    const run = this.pods.get(uid);
    if (!run) return;
    for (const c of run.containers.filter((c) => c.state === "waiting"))
      Object.assign(c, { reason, message });
    this.sync(run);
  }

  /** Writes the pod's status from what is running, keeping transition times of unchanged conditions. */
  private sync(run: PodRun) {
    this.store.mutate(podType(), run.namespace, run.name, (pod) => {
      pod.status = podStatus(run, pod.status ?? {});
    });
  }
}
