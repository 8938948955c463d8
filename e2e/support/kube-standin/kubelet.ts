import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import net from "node:net";
import path from "node:path";

import { sessionPaths } from "@/lib/sandbox/layout";
import type { LocalDriver } from "@/lib/sandbox/drivers/local";
import type { Bridge } from "@/lib/sandbox/types";

import type { LogOptions, LogSource } from "./http";
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
 * Volumes: emptyDir is a host folder per pod and volume (under /dev/shm for `medium: Memory`, as a
 * tmpfs would be; sizeLimit is not enforced), secret and configMap volumes are their data written to
 * files (secret mode from defaultMode, 0644 by default). As the kubelet does, `dnsPolicy: None` gives
 * the pod an /etc/resolv.conf from its dnsConfig, and hostAliases an /etc/hosts with those entries;
 * other pods see the host's files. All containers' volumeMounts are
 * mounted in the shared sandbox (a path mounted differently by two containers gets the first one).
 * bubblewrap can only create a mount point where it can write: under /tmp, /home, /run, /srv, /mnt, or
 * a path that exists on the host. The same holds for a missing workingDir, which is created at start.
 */

export const NODE_NAME = "standin-node";
const PAUSE = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"];

type LogLine = { time: Date; text: string };

type ContainerRun = {
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

type PodRun = {
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

export type KubeletOptions = {
  store: Store;
  driver: LocalDriver;
  /** Inside every pod, 127.0.0.1:port reaches this host Unix socket. */
  clusterServices: Bridge[];
};

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
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
    const since = options.sinceSeconds === undefined ? 0 : Date.now() - options.sinceSeconds * 1000;
    let lines = container.lines.filter((l) => l.time.getTime() >= since);
    if (options.tailLines !== undefined)
      lines = options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
    const format = (l: LogLine) =>
      (options.timestamps ? `${l.time.toISOString().replace("Z", "000000Z")} ` : "") + l.text;
    res.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked" });
    for (const l of lines) res.write(format(l));
    if (!options.follow || container.state === "terminated") {
      res.end();
      return;
    }
    const onLine = (l: LogLine) => res.write(format(l));
    const onEnd = () => res.end();
    container.events.on("line", onLine);
    container.events.once("end", onEnd);
    const detach = () => {
      container.events.off("line", onLine);
      container.events.off("end", onEnd);
    };
    req.on("close", detach);
    res.on("close", detach);
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
    const run: PodRun = {
      uid,
      namespace: pod.metadata.namespace!,
      name: pod.metadata.name!,
      sessionId,
      sessionDir: path.join(this.driver.root, sessionId),
      volumesDir: path.join(this.driver.root, `${sessionId}-volumes`),
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
    if (pullFailure !== undefined) {
      for (const c of run.containers.filter((c) => !c.init || c === run.containers[0])) {
        Object.assign(c, { reason: "ErrImagePull", message: pullFailure });
      }
      this.sync(run);
      this.store.recordEvent(
        pod,
        "Warning",
        "Failed",
        `Failed to pull image "${run.containers[0]!.image}": ${pullFailure}`,
        "kubelet",
      );
      await new Promise((r) => setTimeout(r, 300));
      for (const c of run.containers.filter((c) => c.reason === "ErrImagePull")) {
        Object.assign(c, {
          reason: "ImagePullBackOff",
          message: `Back-off pulling image "${c.image}": ${pullFailure}`,
        });
      }
      this.sync(run);
      return;
    }

    let binds: { source: string; target: string; readOnly?: boolean }[];
    try {
      binds = this.prepareVolumes(run, pod);
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

  /** Folders for the pod's volumes and the binds that show them at each volumeMount. */
  private prepareVolumes(run: PodRun, pod: KubeObject) {
    const dirs = new Map<string, string>();
    for (const volume of pod.spec.volumes ?? []) {
      const dir = path.join(
        volume.emptyDir?.medium === "Memory" ? run.memoryDir : run.volumesDir,
        volume.name,
      );
      fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
      fs.chmodSync(dir, 0o777);
      const source = volume.secret ?? volume.configMap;
      if (source) {
        const isSecret = Boolean(volume.secret);
        const type = typeOfKind(isSecret ? "Secret" : "ConfigMap")!;
        const name = isSecret ? source.secretName : source.name;
        const obj = this.store.find(type, run.namespace, name);
        if (!obj) {
          if (source.optional) continue;
          throw new Error(
            `MountVolume.SetUp failed for volume "${volume.name}" : ${type.singular} "${name}" not found`,
          );
        }
        const data: Record<string, Buffer> = {};
        for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) {
          data[k] = isSecret ? Buffer.from(v, "base64") : Buffer.from(v);
        }
        for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>))
          data[k] = Buffer.from(v, "base64");
        const items: { key: string; path: string; mode?: number }[] =
          source.items ?? Object.keys(data).map((key) => ({ key, path: key }));
        for (const item of items) {
          const file = path.join(dir, item.path);
          fs.mkdirSync(path.dirname(file), { recursive: true });
          fs.writeFileSync(file, data[item.key] ?? Buffer.alloc(0));
          fs.chmodSync(file, item.mode ?? source.defaultMode ?? 0o644);
        }
      } else if (!volume.emptyDir) {
        throw new Error(
          `volume "${volume.name}": the stand-in kubelet supports emptyDir, secret and configMap only`,
        );
      }
      dirs.set(volume.name, dir);
    }
    const binds: { source: string; target: string; readOnly?: boolean }[] = [];
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      for (const m of c.volumeMounts ?? []) {
        const dir = dirs.get(m.name);
        if (!dir) throw new Error(`container ${c.name}: volumeMount "${m.name}" names no volume`);
        if (binds.some((b) => b.target === m.mountPath)) continue;
        const source = m.subPath ? path.join(dir, m.subPath) : dir;
        if (m.subPath && !fs.existsSync(source)) fs.mkdirSync(source, { recursive: true });
        const isData = pod.spec.volumes.find((v: any) => v.name === m.name)?.emptyDir === undefined;
        binds.push({ source, target: m.mountPath, readOnly: Boolean(m.readOnly) || isData });
      }
    }
    return [...binds, ...this.nameFiles(run, pod)];
  }

  /** The pod's /etc/resolv.conf (dnsPolicy None) and /etc/hosts (hostAliases), as the kubelet writes them. */
  private nameFiles(run: PodRun, pod: KubeObject) {
    const files: { source: string; target: string; readOnly: boolean }[] = [];
    const write = (name: string, text: string, target: string) => {
      const source = path.join(run.volumesDir, `.${name}`);
      fs.mkdirSync(run.volumesDir, { recursive: true });
      fs.writeFileSync(source, text, { mode: 0o644 });
      files.push({ source, target, readOnly: true });
    };
    if (pod.spec.dnsPolicy === "None") {
      const dns = pod.spec.dnsConfig ?? {};
      const lines = [
        ...(dns.nameservers ?? []).map((ip: string) => `nameserver ${ip}`),
        ...(dns.searches?.length ? [`search ${dns.searches.join(" ")}`] : []),
        ...(dns.options?.length
          ? [`options ${dns.options.map((o: any) => (o.value ? `${o.name}:${o.value}` : o.name)).join(" ")}`]
          : []),
      ];
      write("resolv.conf", lines.join("\n") + "\n", "/etc/resolv.conf");
    }
    if (pod.spec.hostAliases?.length) {
      const lines = [
        "# Kubernetes-managed hosts file (stand-in).",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "# Entries added by HostAliases.",
        ...pod.spec.hostAliases.map((a: any) => `${a.ip}\t${(a.hostnames ?? []).join("\t")}`),
      ];
      write("hosts", lines.join("\n") + "\n", "/etc/hosts");
    }
    return files;
  }

  private resolveEnv(run: PodRun, spec: any): Record<string, string> {
    const env: Record<string, string> = { HOSTNAME: run.name };
    const lookup = (
      kind: "Secret" | "ConfigMap",
      name: string,
      key: string | undefined,
      optional: boolean,
    ) => {
      const obj = this.store.find(typeOfKind(kind)!, run.namespace, name);
      if (!obj) {
        if (optional) return undefined;
        throw new Error(`${kind.toLowerCase()} "${name}" not found`);
      }
      const data = (obj.data ?? {}) as Record<string, string>;
      const decode = (v: string) => (kind === "Secret" ? Buffer.from(v, "base64").toString("utf8") : v);
      if (key === undefined) return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, decode(v)]));
      if (!(key in data)) {
        if (optional) return undefined;
        throw new Error(`couldn't find key ${key} in ${kind} ${run.namespace}/${name}`);
      }
      return decode(data[key]!);
    };
    for (const from of spec.envFrom ?? []) {
      const ref = from.secretRef ?? from.configMapRef;
      const values = lookup(
        from.secretRef ? "Secret" : "ConfigMap",
        ref.name,
        undefined,
        Boolean(ref.optional),
      );
      for (const [k, v] of Object.entries((values ?? {}) as Record<string, string>))
        env[`${from.prefix ?? ""}${k}`] = v;
    }
    for (const e of spec.env ?? []) {
      if (e.value !== undefined) env[e.name] = String(e.value);
      else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) {
        const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef;
        const value = lookup(
          e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap",
          ref.name,
          ref.key,
          Boolean(ref.optional),
        );
        if (typeof value === "string") env[e.name] = value;
      } else if (e.valueFrom?.fieldRef) {
        const field = e.valueFrom.fieldRef.fieldPath;
        const values: Record<string, string | undefined> = {
          "metadata.name": run.name,
          "metadata.namespace": run.namespace,
          "metadata.uid": run.uid,
          "spec.nodeName": NODE_NAME,
          "status.podIP": run.podIP,
          "status.hostIP": "127.0.0.1",
        };
        env[e.name] = values[field] ?? "";
      } else env[e.name] = "";
    }
    return env;
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
      c.env = this.resolveEnv(run, spec);
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
      child[stream]!.on("data", (chunk: Buffer) => this.appendLog(c, stream, chunk.toString("utf8")));
    }
    child.on("close", (code, signal) => {
      for (const stream of ["stdout", "stderr"] as const) {
        if (c.partial[stream]) this.appendLog(c, stream, "\n");
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

  private appendLog(c: ContainerRun, stream: "stdout" | "stderr", text: string) {
    const parts = (c.partial[stream] + text).split("\n");
    c.partial[stream] = parts.pop()!;
    for (const part of parts) {
      const line = { time: new Date(), text: part + "\n" };
      c.lines.push(line);
      c.events.emit("line", line);
    }
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
      const status = pod.status ?? {};
      const previous = new Map<string, any>((status.conditions ?? []).map((c: any) => [c.type, c]));
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
      const inits = run.containers.filter((c) => c.init);
      const mains = run.containers.filter((c) => !c.init);
      const initFailed = inits.some((c) => c.state === "terminated" && c.exitCode !== 0);
      const initialized = inits.every((c) => c.state === "terminated" && c.exitCode === 0);
      const allDone = mains.every((c) => c.state === "terminated");
      const phase = initFailed
        ? "Failed"
        : allDone
          ? mains.every((c) => c.exitCode === 0)
            ? "Succeeded"
            : "Failed"
          : mains.some((c) => c.state === "running" || c.state === "terminated")
            ? "Running"
            : "Pending";
      const notReady = mains.filter((c) => c.state !== "running").map((c) => c.name);
      const terminal = phase === "Succeeded" || phase === "Failed";
      const readyReason = terminal ? "PodCompleted" : "ContainersNotReady";
      const readyMessage = terminal ? undefined : `containers with unready status: [${notReady.join(" ")}]`;
      const containerStatus = (c: ContainerRun) => ({
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
      });
      pod.status = {
        ...status,
        phase: run.unschedulable !== undefined ? "Pending" : phase,
        conditions:
          run.unschedulable !== undefined
            ? [condition("PodScheduled", false, "Unschedulable", run.unschedulable)]
            : [
                condition("PodScheduled", true),
                ...(run.scheduled
                  ? [
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
                      condition(
                        "ContainersReady",
                        notReady.length === 0,
                        notReady.length === 0 ? undefined : readyReason,
                        notReady.length === 0 ? undefined : readyMessage,
                      ),
                      condition(
                        "Ready",
                        notReady.length === 0,
                        notReady.length === 0 ? undefined : readyReason,
                        notReady.length === 0 ? undefined : readyMessage,
                      ),
                    ]
                  : []),
              ],
        ...(run.scheduled && { hostIP: "127.0.0.1", hostIPs: [{ ip: "127.0.0.1" }] }),
        ...(run.podIP && { podIP: run.podIP, podIPs: [{ ip: run.podIP }] }),
        ...(run.scheduled && !status.startTime && { startTime: now() }),
        ...(inits.length > 0 && run.scheduled && { initContainerStatuses: inits.map(containerStatus) }),
        ...(run.scheduled && { containerStatuses: mains.map(containerStatus) }),
        qosClass: status.qosClass ?? "BestEffort",
      };
    });
  }
}
