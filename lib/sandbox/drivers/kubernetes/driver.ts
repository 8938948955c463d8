import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import type * as k8s from "@kubernetes/client-node";

import { log } from "@/lib/log";
import type { PtyConnection, PtyEvents } from "@/lib/pty/client";

import { sessionPaths } from "../../layout";
import {
  SANDBOX_PRIVATE,
  SandboxError,
  type ExecOptions,
  type ExecResult,
  type LaunchSpec,
  type Preflight,
  type PtyInfo,
  type PtySpec,
  type SandboxDriver,
  type SandboxHandle,
  type StopOptions,
} from "../../types";
import { Cluster, explain, loadKubeConfig, orNull, statusOf } from "./api";
import { PodExec } from "./exec";
import { LogMirror } from "./log-mirror";
import { SessionLookup } from "./lookup";
import { egressProblems, GatewayAddress } from "./network";
import {
  buildBootSecret,
  buildPod,
  buildSandbox,
  buildService,
  CONTAINER,
  instanceSelector,
  LABEL,
  objectName,
  ownerRef,
  secretName,
  sessionLabels,
  shutdownTime,
  type OwnerReference,
  type SessionObjectsInput,
} from "./objects";
import { observePod, observeSandbox, type ObservedState } from "./status";
import { attachPty, startPty } from "./terminals";
import { recordedTunnels, tunnelAnnotations, Tunnels, tunnelsOf } from "./tunnels";

/*
 * The Kubernetes driver: one agent-sandbox `Sandbox` per session (a Pod and a headless Service when
 * the CRD is not served), the bootstrap spec in a per-session Secret, everything labelled so a
 * restarted Hangar (or another web replica) finds it. Exec, terminals and logs go through the API
 * server (WebSocket exec, pod logs); the harness port is reached by port-forward, so the cluster
 * exposes nothing. The host keeps a mirror of the sandbox's log and boot status in the session dir's
 * host-only run/, which the launcher reads as it does for the local drivers, and listens for the
 * tunnels in run/tunnels/. The boot spec (LaunchSpec.stdin) travels in the Secret only: the pod's
 * bootstrap reads it from HANGAR_SPEC_FILE and deletes it.
 *
 * Its parts, in this folder: api.ts (clients, Sandbox calls, errors), lookup.ts (a session's objects,
 * watch-fed), exec.ts (programs in the pod), terminals.ts, tunnels.ts (port-forwards), network.ts
 * (NetworkPolicy checks, the gateway's address), objects.ts (what is created), status.ts (what it
 * says), log-mirror.ts (the host's copy of the pod log).
 */

export type KubernetesDriverOptions = {
  root: string;
  namespace: string;
  image: string;
  instance: string;
  mode: "auto" | "sandbox" | "pod";
  /**
   * How sandbox pods reach the gateway: `host` is an IP, or a name the driver maps to an IP in each
   * pod's /etc/hosts (a Service's ClusterIP, read from the API server), since pods get no DNS.
   */
  gateway: { host: string; egressPort: number; modelPort: number; password: (sessionId: string) => string };
  /** Per pod: CPU limit (millicores) and ephemeral storage (MiB); memory and pids come with each launch. */
  resources?: { cpuMillis?: number; diskMiB?: number };
  /** `hostUsers: false` for sandbox pods (their own user namespace). */
  userNamespaces?: boolean;
  runtimeClassName?: string;
  ttlSeconds?: number;
  /** Defaults to KUBECONFIG, ~/.kube/config, then the in-cluster service account. */
  kubeConfig?: k8s.KubeConfig;
};

/**
 * Where the init container leaves the Secret's spec for the bootstrap (see objects.ts): the pod's
 * memory-backed private folder, so the spec is on no node's disk while it waits to be read.
 */
const SPEC_FILE = `${SANDBOX_PRIVATE}/boot.json`;
const STOP_WAIT_MS = 20_000;
/**
 * Without a user namespace per pod, RLIMIT_NPROC counts every uid-1000 task on the node (all its
 * sandboxes' processes and threads), so the pod's per-session figure would starve busy nodes. It is
 * then this node-wide ceiling instead: a fork bomb cannot take the node (kubelet, other uids), though
 * it can stall the node's other sandboxes until it is stopped. The kubelet's podPidsLimit is what
 * bounds one pod (deploy/README.md).
 */
export const NODE_NPROC_CEILING = 16_384;

export class KubernetesDriver implements SandboxDriver {
  readonly name = "kubernetes";
  readonly isolation = "container" as const;
  private readonly cluster: Cluster;
  private readonly objects: SessionLookup;
  private readonly pods: PodExec;
  private readonly tunnels: Tunnels;
  private readonly gateway: GatewayAddress;
  private detected: Promise<"sandbox" | "pod"> | undefined;
  private readonly mirrors = new Map<string, LogMirror>();
  private readonly launches = new Map<string, Promise<SandboxHandle>>();

  constructor(private readonly options: KubernetesDriverOptions) {
    const kc = options.kubeConfig ?? KubernetesDriver.loadConfig();
    this.cluster = new Cluster(kc, options.namespace);
    this.objects = new SessionLookup(this.cluster, options.instance, () => this.mode());
    const runningPod = (sessionId: string) => this.objects.runningPod(sessionId);
    this.pods = new PodExec(kc, options.namespace, runningPod);
    this.tunnels = new Tunnels(kc, options.namespace, runningPod);
    this.gateway = new GatewayAddress(this.cluster.core, options.gateway.host);
  }

  static loadConfig(): k8s.KubeConfig {
    return loadKubeConfig();
  }

  private get ns() {
    return this.options.namespace;
  }

  private get core() {
    return this.cluster.core;
  }

  private sessionDir(sessionId: string) {
    return path.join(this.options.root, sessionId);
  }

  /** Sandbox resources when agent-sandbox's CRD is served (discovered once), plain Pods otherwise. */
  mode(): Promise<"sandbox" | "pod"> {
    if (this.options.mode !== "auto") return Promise.resolve(this.options.mode);
    this.detected ??= this.cluster.listSandboxes({ limit: 1 }).then(
      () => "sandbox" as const,
      (err: unknown) => {
        if (statusOf(err) === 404) return "pod" as const;
        this.detected = undefined;
        throw err;
      },
    );
    return this.detected;
  }

  sandboxNetwork(sessionId: string) {
    const { host, egressPort, modelPort, password } = this.options.gateway;
    const user = encodeURIComponent(sessionId);
    return {
      egressProxy: `http://${user}:${encodeURIComponent(password(sessionId))}@${host}:${egressPort}`,
      modelBase: `http://${host}:${modelPort}`,
      noProxy: [host],
    };
  }

  async preflight(): Promise<Preflight> {
    const problems: string[] = [];
    const notes: string[] = [`namespace ${this.ns}`, `image ${this.options.image}`];
    try {
      const mode = await this.mode();
      notes.push(
        mode === "sandbox"
          ? "agent-sandbox Sandbox resources (agents.x-k8s.io/v1beta1)"
          : "plain Pods (the agent-sandbox CRD is not served)",
      );
      await this.core.listNamespacedPod({
        namespace: this.ns,
        labelSelector: instanceSelector(this.options.instance),
        limit: 1,
      });
      // Egress rules are only enforced if sandbox pods cannot go around the gateway.
      const policies = await this.cluster.networking.listNamespacedNetworkPolicy({ namespace: this.ns });
      const labels = sessionLabels({ sessionId: "", instance: this.options.instance });
      problems.push(...egressProblems(policies.items, labels, this.ns));
    } catch (err) {
      problems.push(`the Kubernetes API refused or failed: ${explain(err)}`);
    }
    try {
      const alias = await this.gateway.alias();
      if (alias)
        notes.push(`gateway ${alias.hostnames[0]} at ${alias.ip} (pods' /etc/hosts; no DNS in pods)`);
    } catch (err) {
      problems.push((err as Error).message);
    }
    return { ok: problems.length === 0, problems, notes };
  }

  launch(spec: LaunchSpec): Promise<SandboxHandle> {
    const pending = this.launches.get(spec.sessionId);
    if (pending) return pending;
    const launching = this.launchOnce(spec).finally(() => this.launches.delete(spec.sessionId));
    this.launches.set(spec.sessionId, launching);
    return launching;
  }

  private async launchOnce(spec: LaunchSpec): Promise<SandboxHandle> {
    if (spec.argv.length === 0) throw new SandboxError("invalid_spec", "launch needs a command");
    const existing = await this.status(spec.sessionId);
    if (existing?.state === "running") return existing;
    if (existing) await this.remove(spec.sessionId);

    const gatewayAlias = await this.gateway.alias();
    const paths = sessionPaths(spec.sessionDir);
    fs.mkdirSync(paths.run, { recursive: true, mode: 0o700 });
    const input: SessionObjectsInput = {
      sessionId: spec.sessionId,
      agentId: spec.labels?.agentId,
      namespace: this.ns,
      instance: this.options.instance,
      image: this.options.image,
      argv: spec.argv,
      env: {
        ...spec.env,
        HANGAR_STATUS_STDOUT: "1",
        ...(spec.stdin !== undefined && { HANGAR_SPEC_FILE: SPEC_FILE }),
      },
      homeFiles: spec.stdin === undefined ? {} : { [SPEC_FILE]: Buffer.from(spec.stdin) },
      ports: (spec.reverseBridges ?? []).map((b) => b.port),
      memoryMiB: spec.limits?.memoryMiB,
      cpuMillis: this.options.resources?.cpuMillis,
      diskMiB: this.options.resources?.diskMiB,
      nproc: this.nproc(spec.limits?.pids),
      userNamespaces: this.options.userNamespaces,
      gatewayAlias,
      runtimeClassName: this.options.runtimeClassName,
    };
    const mode = await this.mode();
    if (mode === "sandbox") input.ttlSeconds = this.options.ttlSeconds;
    const tunnels = tunnelsOf(spec.reverseBridges);
    try {
      await this.create(input, mode, tunnelAnnotations(tunnels));
    } catch (err) {
      await this.remove(spec.sessionId).catch(() => undefined);
      throw new SandboxError("launch_failed", `Kubernetes refused the sandbox: ${explain(err)}`);
    }
    log.info("sandbox created", { sessionId: spec.sessionId, driver: this.name, mode, namespace: this.ns });
    this.follow(spec.sessionId, spec.sessionDir);
    await this.tunnels.listen(spec.sessionId, spec.sessionDir, tunnels);
    return this.handle(spec.sessionId, { state: "starting" }, new Date().toISOString());
  }

  /**
   * Creates a session's objects: the boot Secret (any left over replaced), then its Sandbox, or its
   * Pod and headless Service, and makes that owner the Secret's, so the Secret goes with it.
   */
  private async create(
    input: SessionObjectsInput,
    mode: "sandbox" | "pod",
    annotations: Record<string, string>,
  ) {
    const name = objectName(input.sessionId);
    const secret = buildBootSecret(input);
    await orNull(this.core.deleteNamespacedSecret({ name: secret.metadata.name, namespace: this.ns }));
    await this.core.createNamespacedSecret({ namespace: this.ns, body: secret as k8s.V1Secret });
    let owner: OwnerReference;
    if (mode === "sandbox") {
      const sandbox = buildSandbox(input);
      const body = { ...sandbox, metadata: { ...sandbox.metadata, annotations } };
      const created = (await this.cluster.createSandbox(body)) as { metadata: { uid: string } };
      owner = { apiVersion: sandbox.apiVersion, kind: "Sandbox", name, uid: created.metadata.uid };
    } else {
      const pod = buildPod(input);
      const body = { ...pod, metadata: { ...pod.metadata, annotations } } as k8s.V1Pod;
      const created = await this.core.createNamespacedPod({ namespace: this.ns, body });
      owner = { apiVersion: "v1", kind: "Pod", name, uid: created.metadata!.uid! };
      await this.core.createNamespacedService({
        namespace: this.ns,
        body: buildService(input, owner) as k8s.V1Service,
      });
    }
    await this.cluster.patchSecret(secretName(input.sessionId), {
      metadata: { ownerReferences: [ownerRef(owner)] },
    });
  }

  private handle(sessionId: string, seen: ObservedState, startedAt: string | undefined): SandboxHandle {
    const dir = this.sessionDir(sessionId);
    return {
      sessionId,
      driver: this.name,
      isolation: this.isolation,
      state: seen.state === "exited" ? "exited" : "running",
      pid: 0,
      startedAt: startedAt ?? new Date(0).toISOString(),
      ...(seen.exitedAt ? { exitedAt: seen.exitedAt } : {}),
      ...(seen.exitCode !== undefined ? { exitCode: seen.exitCode } : {}),
      ...(seen.reason ? { reason: seen.reason } : {}),
      ...(seen.waiting ? { waiting: seen.waiting } : {}),
      sessionDir: dir,
      logPath: sessionPaths(dir).log,
      limits: {
        mechanism: "kubernetes",
        notes: [
          "cpu, memory and ephemeral storage: the pod's resources",
          this.options.userNamespaces
            ? "pids: RLIMIT_NPROC per pod (own user namespace), and the kubelet's podPidsLimit"
            : `pids: RLIMIT_NPROC ${NODE_NPROC_CEILING} for uid 1000 node-wide; per pod only the kubelet's podPidsLimit`,
        ],
      },
    };
  }

  /** The pods' RLIMIT_NPROC: the session's figure when the pod has its own uids, else a node ceiling. */
  private nproc(pids: number | undefined): number | undefined {
    if (pids === undefined) return undefined;
    return this.options.userNamespaces ? pids : Math.max(pids, NODE_NPROC_CEILING);
  }

  /** Stops the watches and mirrors of this process (the sandboxes keep running). */
  close() {
    this.objects.close();
    for (const mirror of this.mirrors.values()) mirror.stop();
    this.mirrors.clear();
    this.tunnels.closeAll();
  }

  async status(sessionId: string): Promise<SandboxHandle | null> {
    const { sandbox, pod } = await this.objects.read(sessionId);
    if (!sandbox && !pod) return null;
    const seen = sandbox ? observeSandbox(sandbox, pod) : observePod(pod!);
    const created =
      (sandbox as { metadata?: { creationTimestamp?: string | Date } } | null)?.metadata?.creationTimestamp ??
      pod?.metadata?.creationTimestamp;
    return this.handle(sessionId, seen, created ? new Date(created).toISOString() : undefined);
  }

  async list(): Promise<SandboxHandle[]> {
    const selector = instanceSelector(this.options.instance);
    const ids = new Set<string>();
    if ((await this.mode()) === "sandbox") {
      const list = await this.cluster.listSandboxes({ labelSelector: selector });
      for (const item of list.items) ids.add(item.metadata?.labels?.[LABEL.session] ?? "");
    }
    const pods = await this.core.listNamespacedPod({ namespace: this.ns, labelSelector: selector });
    for (const pod of pods.items) ids.add(pod.metadata?.labels?.[LABEL.session] ?? "");
    ids.delete("");
    const handles: SandboxHandle[] = [];
    for (const id of ids) {
      const handle = await this.status(id);
      if (handle) handles.push(handle);
    }
    return handles;
  }

  /** Deletes the session's objects (owners first; dependents go with them) and stops local mirrors. */
  private async remove(sessionId: string) {
    const name = objectName(sessionId);
    this.mirrors.get(sessionId)?.stop();
    this.mirrors.delete(sessionId);
    await this.tunnels.close(sessionId);
    const background = { propagationPolicy: "Background" };
    if ((await this.mode()) === "sandbox") await orNull(this.cluster.deleteSandbox(name, background));
    await orNull(this.core.deleteNamespacedPod({ name, namespace: this.ns, ...background }));
    await orNull(this.core.deleteNamespacedService({ name, namespace: this.ns }));
    await orNull(this.core.deleteNamespacedSecret({ name: secretName(sessionId), namespace: this.ns }));
  }

  async stop(sessionId: string, options: StopOptions = {}): Promise<void> {
    await this.launches.get(sessionId)?.catch(() => undefined);
    await this.remove(sessionId);
    const deadline = Date.now() + (options.graceMs ?? 0) + STOP_WAIT_MS;
    while (Date.now() < deadline) {
      const { sandbox, pod } = await this.objects.read(sessionId);
      if (!sandbox && !pod) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (options.removeDir) fs.rmSync(this.sessionDir(sessionId), { recursive: true, force: true });
  }

  exec(sessionId: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.pods.exec(sessionId, argv, options);
  }

  spawn(
    sessionId: string,
    argv: string[],
    options: { env?: Record<string, string>; cwd?: string } = {},
  ): ChildProcess {
    return this.pods.spawn(sessionId, argv, options);
  }

  startPty(sessionId: string, spec: PtySpec): Promise<PtyInfo> {
    return startPty(this.pods, sessionId, spec);
  }

  attachPty(sessionId: string, name: string, events: Partial<PtyEvents>): Promise<PtyConnection> {
    return attachPty(this.pods, sessionId, name, events);
  }

  // --- log mirror and tunnels ------------------------------------------------------------------------

  private follow(sessionId: string, sessionDir: string): LogMirror {
    let mirror = this.mirrors.get(sessionId);
    if (!mirror) {
      mirror = new LogMirror({
        kc: this.cluster.kc,
        core: this.core,
        namespace: this.ns,
        pod: () =>
          this.objects
            .read(sessionId)
            .then((o) => (o.pod ? { name: o.podName, ended: observePod(o.pod).state === "exited" } : null)),
        container: CONTAINER,
        paths: sessionPaths(sessionDir),
      });
      this.mirrors.set(sessionId, mirror);
      mirror.start();
    }
    return mirror;
  }

  async readLog(sessionId: string, tailLines: number): Promise<string> {
    const { pod, podName } = await this.objects.read(sessionId);
    if (!pod) return "";
    try {
      const text = await this.core.readNamespacedPodLog({
        name: podName,
        namespace: this.ns,
        container: CONTAINER,
        tailLines: tailLines * 2,
      });
      return (
        LogMirror.withoutStatus(text)
          .split("\n")
          .filter((l, i, all) => i < all.length - 1 || l !== "")
          .slice(-tailLines)
          .join("\n") + "\n"
      );
    } catch {
      return "";
    }
  }

  /**
   * Pushes back a Sandbox's shutdownTime once half its TTL has passed, so the controller's safety net
   * removes sandboxes only when Hangar has stopped renewing them (gone, or lost its database).
   */
  async keepAlive(sessionId: string): Promise<void> {
    const ttl = this.options.ttlSeconds;
    if (!ttl || (await this.mode()) !== "sandbox") return;
    const { sandbox } = await this.objects.read(sessionId);
    const current = (sandbox as { spec?: { shutdownTime?: string } } | null)?.spec?.shutdownTime;
    if (!sandbox || (current && Date.parse(current) - Date.now() > (ttl * 1000) / 2)) return;
    await this.cluster.patchSandbox(objectName(sessionId), {
      spec: { shutdownTime: shutdownTime(new Date(), ttl) },
    });
  }

  /** Takes over a running sandbox this process did not launch: its log copy (rebuilt first), its tunnels. */
  async adopt(sessionId: string): Promise<void> {
    await this.follow(sessionId, this.sessionDir(sessionId)).catchUp();
    await this.openTunnels(sessionId);
  }

  async openTunnels(sessionId: string): Promise<void> {
    const { sandbox, pod } = await this.objects.read(sessionId);
    await this.tunnels.listen(sessionId, this.sessionDir(sessionId), recordedTunnels(sandbox ?? pod));
  }
}
