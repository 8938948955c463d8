import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import dns from "node:dns/promises";
import { EventEmitter } from "node:events";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { Duplex, PassThrough, Readable, Writable } from "node:stream";

import * as k8s from "@kubernetes/client-node";

import { log } from "@/lib/log";
import { type PtyConnection, type PtyEvents, speakPty } from "@/lib/pty/client";

import type {
  ExecOptions,
  ExecResult,
  LaunchSpec,
  Preflight,
  PtyInfo,
  PtySpec,
  SandboxDriver,
  SandboxHandle,
  StopOptions,
} from "../../types";
import { SANDBOX_PRIVATE, SandboxError } from "../../types";
import { sessionPaths } from "../../layout";
import { ObjectWatchCache } from "./cache";
import { LogMirror } from "./log-mirror";
import {
  buildBootSecret,
  buildPod,
  buildSandbox,
  buildService,
  CONTAINER,
  instanceSelector,
  LABEL,
  objectName,
  type OwnerReference,
  ownerRef,
  POD_HOME,
  POD_WORKSPACE,
  PRLIMIT,
  SANDBOX_API_GROUP,
  SANDBOX_API_VERSION,
  SANDBOX_PLURAL,
  secretName,
  type SessionObjectsInput,
  sessionLabels,
  shutdownTime,
} from "./objects";
import {
  type ObservedState,
  observePod,
  observeSandbox,
  type PodLike,
  type SandboxLike,
  sandboxPodName,
} from "./status";

/*
 * The Kubernetes driver: one agent-sandbox `Sandbox` per session (a Pod and a headless Service when
 * the CRD is not served), the bootstrap spec in a per-session Secret, everything labelled so a
 * restarted Hangar (or another web replica) finds it. Exec, terminals and logs go through the API
 * server (WebSocket exec, pod logs); the harness port is reached by port-forward, so the cluster
 * exposes nothing. The host keeps a mirror of the sandbox's log and boot status in the session dir's
 * host-only run/, which the launcher reads as it does for the local drivers, and listens for the
 * tunnels in run/tunnels/. The boot spec (LaunchSpec.stdin) travels in the Secret only: the pod's
 * bootstrap reads it from HANGAR_SPEC_FILE and deletes it.
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

type Tunnel = { socketPath: string; port: number };
const TUNNELS_ANNOTATION = "hangar.dev/tunnels";
/**
 * Where the init container leaves the Secret's spec for the bootstrap (see objects.ts): the pod's
 * memory-backed private folder, so the spec is on no node's disk while it waits to be read.
 */
const SPEC_FILE = `${SANDBOX_PRIVATE}/boot.json`;
const PTY_DIR = `${POD_HOME}/.hangar/pty`;
const PTY_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const PTY_HOLDER = path.join(process.cwd(), "lib", "pty", "holder.mjs");
const PTY_RELAY = path.join(process.cwd(), "lib", "pty", "relay.mjs");
const STOP_WAIT_MS = 20_000;
/**
 * Without a user namespace per pod, RLIMIT_NPROC counts every uid-1000 task on the node (all its
 * sandboxes' processes and threads), so the pod's per-session figure would starve busy nodes. It is
 * then this node-wide ceiling instead: a fork bomb cannot take the node (kubelet, other uids), though
 * it can stall the node's other sandboxes until it is stopped. The kubelet's podPidsLimit is what
 * bounds one pod (deploy/README.md).
 */
export const NODE_NPROC_CEILING = 16_384;
/** `<service>.<namespace>.svc[.<cluster domain>]`: a Service whose ClusterIP the API server knows. */
const SERVICE_HOST =
  /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.svc(?:\.[a-z0-9.-]+)?$/;

/** The HTTP status of a failed API call (client-node's ApiException), or undefined. */
function statusOf(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? err.code : undefined;
}

function explain(err: unknown): string {
  if (err instanceof k8s.ApiException) {
    try {
      const body = (typeof err.body === "string" ? JSON.parse(err.body) : err.body) as { message?: string };
      if (body?.message) return `${err.code}: ${body.message}`;
    } catch {
      // not a V1Status
    }
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

async function orNull<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * Programs started in a running sandbox read their environment and working directory from the
 * first line of stdin (base64 of a shell script), never from argv: exec arguments travel in the
 * request URL, which API servers write to their audit logs.
 */
const PRELUDE =
  "IFS= read -r hangar_env || exit 125; " +
  // An exec'd process gets the runtime's rlimits, not the main process's: the pod's cap again.
  `[ -z "$HANGAR_NPROC" ] || ${PRLIMIT} --pid $$ --nproc="$HANGAR_NPROC:$HANGAR_NPROC" || exit 126; ` +
  'eval "$(printf %s "$hangar_env" | base64 -d)" || exit 126; exec "$@"';

function preludeLine(env: Record<string, string>, cwd: string | undefined, pidFile?: string): string {
  for (const key of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw new SandboxError("invalid_spec", `Invalid env name: ${key}`);
  }
  const dir = cwd === undefined ? POD_WORKSPACE : path.posix.resolve(POD_WORKSPACE, cwd);
  const script = [
    ...Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}`),
    `cd ${quote(dir)} || exit 126`,
    ...(pidFile ? [`echo $$ > ${quote(pidFile)}`] : []),
  ].join("\n");
  return Buffer.from(script).toString("base64") + "\n";
}

/** A program running in a pod through an exec stream, shaped like a ChildProcess for its callers. */
class RemoteProcess extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed = false;
  pid: number | undefined = undefined;
  socket: { close: () => void } | null = null;
  onKill: (signal: NodeJS.Signals) => void = () => undefined;

  kill(signal: NodeJS.Signals | number = "SIGTERM"): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    this.killed = true;
    const name = typeof signal === "number" ? "SIGKILL" : signal;
    this.onKill(name);
    return true;
  }

  finish(code: number | null, signal: NodeJS.Signals | null) {
    if (this.exitCode !== null || this.signalCode !== null) return;
    this.exitCode = code;
    this.signalCode = signal;
    this.stdout.end();
    this.stderr.end();
    this.emit("exit", code, signal);
    this.emit("close", code, signal);
  }
}

/**
 * Whether a NetworkPolicy makes egress default-deny for pods with these labels (an Egress policy type
 * selecting them; a selector with expressions is taken as selecting, the cluster decides).
 */
function restrictsEgress(policy: k8s.V1NetworkPolicy, labels: Record<string, string>): boolean {
  const spec = policy.spec;
  if (!spec?.policyTypes?.includes("Egress")) return false;
  const wanted = spec.podSelector?.matchLabels ?? {};
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

/** A NetworkPolicy port that includes DNS: 53 (or a range over it), or kube-dns's port names. */
function coversDns(port: k8s.V1NetworkPolicyPort): boolean {
  if (typeof port.port === "string") return ["53", "dns", "dns-tcp"].includes(port.port);
  return port.port !== undefined && port.port <= 53 && 53 <= (port.endPort ?? port.port);
}

/**
 * What an egress rule of a policy selecting these pods opens beyond the gateway: any destination (no
 * `to`), or port 53, through which name lookups would carry data to whoever serves a domain.
 */
function looseEgress(policy: k8s.V1NetworkPolicy, labels: Record<string, string>): string[] {
  const spec = policy.spec;
  if (!spec?.policyTypes?.includes("Egress")) return [];
  const wanted = spec.podSelector?.matchLabels ?? {};
  if (!Object.entries(wanted).every(([key, value]) => labels[key] === value)) return [];
  const name = policy.metadata?.name ?? "(unnamed)";
  return (spec.egress ?? []).flatMap((rule) => {
    if (!rule.to?.length) return [`NetworkPolicy ${name} lets sandbox pods reach any destination`];
    if (rule.ports?.some(coversDns))
      return [`NetworkPolicy ${name} lets sandbox pods reach DNS (port 53): lookups can carry data out`];
    return [];
  });
}

/** The exit code in an exec's final V1Status (channel 3). */
function exitCodeOf(status: k8s.V1Status): number {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

export class KubernetesDriver implements SandboxDriver {
  readonly name = "kubernetes";
  readonly isolation = "container" as const;
  private readonly kc: k8s.KubeConfig;
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly networking: k8s.NetworkingV1Api;
  private readonly exec_: k8s.Exec;
  private readonly forward: k8s.PortForward;
  private detected: Promise<"sandbox" | "pod"> | undefined;
  private readonly mirrors = new Map<string, LogMirror>();
  private readonly tunnels = new Map<string, net.Server>();
  private readonly launches = new Map<string, Promise<SandboxHandle>>();
  private podCache: ObjectWatchCache<k8s.V1Pod> | null = null;
  private sandboxCache: ObjectWatchCache<k8s.KubernetesObject> | null = null;
  private warnedGatewayService = false;

  constructor(private readonly options: KubernetesDriverOptions) {
    this.kc = options.kubeConfig ?? KubernetesDriver.loadConfig();
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.custom = this.kc.makeApiClient(k8s.CustomObjectsApi);
    this.networking = this.kc.makeApiClient(k8s.NetworkingV1Api);
    this.exec_ = new k8s.Exec(this.kc);
    this.forward = new k8s.PortForward(this.kc);
  }

  static loadConfig(): k8s.KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromDefault();
    if (!kc.getCurrentCluster()) {
      throw new Error(
        "HANGAR_SANDBOX_DRIVER=kubernetes found no cluster: set KUBECONFIG, or run Hangar in a pod with a service account",
      );
    }
    return kc;
  }

  private get ns() {
    return this.options.namespace;
  }

  private sessionDir(sessionId: string) {
    return path.join(this.options.root, sessionId);
  }

  /** Sandbox resources when agent-sandbox's CRD is served (discovered once), plain Pods otherwise. */
  mode(): Promise<"sandbox" | "pod"> {
    if (this.options.mode !== "auto") return Promise.resolve(this.options.mode);
    this.detected ??= this.custom
      .listNamespacedCustomObject({
        group: SANDBOX_API_GROUP,
        version: SANDBOX_API_VERSION,
        namespace: this.ns,
        plural: SANDBOX_PLURAL,
        limit: 1,
      })
      .then(
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
      const policies = await this.networking.listNamespacedNetworkPolicy({ namespace: this.ns });
      if (
        !policies.items.some((p) =>
          restrictsEgress(p, sessionLabels({ sessionId: "", instance: this.options.instance })),
        )
      ) {
        problems.push(
          `no NetworkPolicy in ${this.ns} restricts egress from sandbox pods: they could bypass the egress gateway (apply deploy/network-policies.yaml)`,
        );
      }
      const labels = sessionLabels({ sessionId: "", instance: this.options.instance });
      problems.push(...policies.items.flatMap((p) => looseEgress(p, labels)));
    } catch (err) {
      problems.push(`the Kubernetes API refused or failed: ${explain(err)}`);
    }
    try {
      const alias = await this.gatewayAlias();
      if (alias)
        notes.push(`gateway ${alias.hostnames[0]} at ${alias.ip} (pods' /etc/hosts; no DNS in pods)`);
    } catch (err) {
      problems.push((err as Error).message);
    }
    return { ok: problems.length === 0, problems, notes };
  }

  /**
   * The pods' /etc/hosts entry for the gateway, read at each launch (a recreated Service gets a new
   * ClusterIP); none when the configured host is an IP. Sandboxes resolve nothing else.
   */
  private async gatewayAlias(): Promise<{ ip: string; hostnames: string[] } | undefined> {
    const host = this.options.gateway.host;
    if (net.isIP(host)) return undefined;
    return { ip: await this.gatewayIp(host), hostnames: [host] };
  }

  /**
   * A Service name's ClusterIP from the API server (the web Role may read that one Service); any
   * other name, or a Service this process may not read, as this process's resolver answers it.
   */
  private async gatewayIp(host: string): Promise<string> {
    const service = SERVICE_HOST.exec(host);
    if (service) {
      const [, name, namespace] = service as unknown as [string, string, string];
      try {
        const found = await this.core.readNamespacedService({ name, namespace });
        const ip = found.spec?.clusterIP;
        if (ip && net.isIP(ip)) return ip;
        throw new SandboxError(
          "launch_failed",
          `the gateway Service ${namespace}/${name} has no ClusterIP: sandboxes need one fixed address for it`,
        );
      } catch (err) {
        if (err instanceof SandboxError) throw err;
        if (!this.warnedGatewayService) {
          this.warnedGatewayService = true;
          log.warn("gateway Service not readable; resolving its name instead", {
            service: `${namespace}/${name}`,
            error: explain(err),
          });
        }
      }
    }
    try {
      return (await dns.lookup(host)).address;
    } catch (err) {
      throw new SandboxError(
        "launch_failed",
        `the gateway ${host} has no address (HANGAR_K8S_GATEWAY_HOST): ${explain(err)}`,
      );
    }
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

    const gatewayAlias = await this.gatewayAlias();
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
    const tunnels: Tunnel[] = (spec.reverseBridges ?? []).map((b) => ({
      socketPath: path.basename(b.socketPath),
      port: b.port,
    }));
    const annotations = { [TUNNELS_ANNOTATION]: JSON.stringify(tunnels) };
    const name = objectName(spec.sessionId);
    try {
      const secret = buildBootSecret(input);
      await orNull(this.core.deleteNamespacedSecret({ name: secret.metadata.name, namespace: this.ns }));
      await this.core.createNamespacedSecret({ namespace: this.ns, body: secret as k8s.V1Secret });
      let owner: OwnerReference;
      if (mode === "sandbox") {
        const sandbox = buildSandbox(input);
        const body = { ...sandbox, metadata: { ...sandbox.metadata, annotations } };
        const created = (await this.custom.createNamespacedCustomObject({
          group: SANDBOX_API_GROUP,
          version: SANDBOX_API_VERSION,
          namespace: this.ns,
          plural: SANDBOX_PLURAL,
          body,
        })) as { metadata: { uid: string } };
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
      await this.core.patchNamespacedSecret(
        {
          name: secretName(spec.sessionId),
          namespace: this.ns,
          body: { metadata: { ownerReferences: [ownerRef(owner)] } },
        },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
    } catch (err) {
      await this.remove(spec.sessionId).catch(() => undefined);
      throw new SandboxError("launch_failed", `Kubernetes refused the sandbox: ${explain(err)}`);
    }
    log.info("sandbox created", { sessionId: spec.sessionId, driver: this.name, mode, namespace: this.ns });
    this.follow(spec.sessionId, spec.sessionDir);
    await this.listenTunnels(spec.sessionId, spec.sessionDir, tunnels);
    return this.handle(spec.sessionId, { state: "starting" }, new Date().toISOString());
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
    this.podCache?.stop();
    this.sandboxCache?.stop();
    for (const mirror of this.mirrors.values()) mirror.stop();
    this.mirrors.clear();
    for (const server of this.tunnels.values()) server.close();
    this.tunnels.clear();
  }

  /** Watch-fed caches of this installation's pods (and Sandboxes), started on first use. */
  private async caches() {
    const selector = instanceSelector(this.options.instance);
    const mode = await this.mode();
    this.podCache ??= new ObjectWatchCache<k8s.V1Pod>(
      this.kc,
      `/api/v1/namespaces/${this.ns}/pods`,
      () => this.core.listNamespacedPod({ namespace: this.ns, labelSelector: selector }),
      selector,
    );
    this.podCache.start();
    if (mode === "sandbox") {
      this.sandboxCache ??= new ObjectWatchCache<k8s.KubernetesObject>(
        this.kc,
        `/apis/${SANDBOX_API_GROUP}/${SANDBOX_API_VERSION}/namespaces/${this.ns}/${SANDBOX_PLURAL}`,
        () =>
          this.custom.listNamespacedCustomObject({
            group: SANDBOX_API_GROUP,
            version: SANDBOX_API_VERSION,
            namespace: this.ns,
            plural: SANDBOX_PLURAL,
            labelSelector: selector,
          }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>,
        selector,
      );
      this.sandboxCache.start();
    }
    return mode;
  }

  private async readPod(name: string): Promise<PodLike | null> {
    const cached = this.podCache?.get(name, this.ns);
    if (cached) return cached as PodLike;
    return (await orNull(this.core.readNamespacedPod({ name, namespace: this.ns }))) as PodLike | null;
  }

  private async readObjects(sessionId: string) {
    const name = objectName(sessionId);
    if ((await this.caches()) === "pod")
      return { sandbox: null, pod: await this.readPod(name), podName: name };
    const sandbox = ((this.sandboxCache?.get(name, this.ns) as SandboxLike | undefined) ??
      (await orNull(
        this.custom.getNamespacedCustomObject({
          group: SANDBOX_API_GROUP,
          version: SANDBOX_API_VERSION,
          namespace: this.ns,
          plural: SANDBOX_PLURAL,
          name,
        }),
      ))) as (SandboxLike & { metadata?: { creationTimestamp?: string } }) | null;
    if (!sandbox) return { sandbox: null, pod: null, podName: name };
    const podName = sandboxPodName(sandbox, name);
    return { sandbox, pod: await this.readPod(podName), podName };
  }

  async status(sessionId: string): Promise<SandboxHandle | null> {
    const { sandbox, pod } = await this.readObjects(sessionId);
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
      const list = (await this.custom.listNamespacedCustomObject({
        group: SANDBOX_API_GROUP,
        version: SANDBOX_API_VERSION,
        namespace: this.ns,
        plural: SANDBOX_PLURAL,
        labelSelector: selector,
      })) as { items: { metadata?: { labels?: Record<string, string> } }[] };
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
    await this.closeTunnels(sessionId);
    const background = { propagationPolicy: "Background" };
    if ((await this.mode()) === "sandbox") {
      await orNull(
        this.custom.deleteNamespacedCustomObject({
          group: SANDBOX_API_GROUP,
          version: SANDBOX_API_VERSION,
          namespace: this.ns,
          plural: SANDBOX_PLURAL,
          name,
          ...background,
        }),
      );
    }
    await orNull(this.core.deleteNamespacedPod({ name, namespace: this.ns, ...background }));
    await orNull(this.core.deleteNamespacedService({ name, namespace: this.ns }));
    await orNull(this.core.deleteNamespacedSecret({ name: secretName(sessionId), namespace: this.ns }));
  }

  async stop(sessionId: string, options: StopOptions = {}): Promise<void> {
    await this.launches.get(sessionId)?.catch(() => undefined);
    await this.remove(sessionId);
    const deadline = Date.now() + (options.graceMs ?? 0) + STOP_WAIT_MS;
    while (Date.now() < deadline) {
      const { sandbox, pod } = await this.readObjects(sessionId);
      if (!sandbox && !pod) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (options.removeDir) fs.rmSync(this.sessionDir(sessionId), { recursive: true, force: true });
  }

  /** The pod of a running sandbox, or an error saying why there is none. */
  private async runningPod(sessionId: string): Promise<string> {
    const { sandbox, pod, podName } = await this.readObjects(sessionId);
    if (!sandbox && !pod) throw new SandboxError("not_found", `No sandbox for session ${sessionId}`);
    const seen = sandbox ? observeSandbox(sandbox, pod) : observePod(pod!);
    if (seen.state !== "running" || !pod) {
      throw new SandboxError(
        "not_running",
        `Sandbox ${sessionId} is not running${seen.reason ? `: ${seen.reason}` : ""}`,
      );
    }
    return podName;
  }

  /** Runs argv in the sandbox container over an exec stream; stdin starts with the prelude line. */
  private async run(
    pod: string,
    argv: string[],
    stdin: Readable,
    stdout: Writable,
    stderr: Writable,
    done: (code: number) => void,
  ) {
    let reported = false;
    const socket = await this.exec_.exec(
      this.ns,
      pod,
      CONTAINER,
      ["/bin/sh", "-c", PRELUDE, "hangar", ...argv],
      stdout,
      stderr,
      stdin,
      false,
      (status) => {
        reported = true;
        done(exitCodeOf(status));
      },
    );
    socket.on("close", () => {
      if (!reported) done(-1);
    });
    return socket;
  }

  async exec(sessionId: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0 || !argv[0]) throw new SandboxError("invalid_spec", "exec needs a command");
    const pod = await this.runningPod(sessionId);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const collect = (into: Buffer[]) =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          into.push(Buffer.from(chunk));
          cb();
        },
      });
    const input = Readable.from([
      preludeLine(options.env ?? {}, options.cwd),
      ...(options.stdin ? [Buffer.from(options.stdin)] : []),
    ]);
    return new Promise<ExecResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      const finish = (code: number) => {
        clearTimeout(timer);
        resolve({
          exitCode: timedOut ? 124 : code,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
          timedOut,
        });
      };
      let settled = false;
      const once = (code: number) => {
        if (settled) return;
        settled = true;
        // Output frames may trail the status frame within the same tick.
        setImmediate(() => finish(code));
      };
      this.run(pod, argv, input, collect(out), collect(err), once).then(
        (socket) => {
          if (options.timeoutMs) {
            timer = setTimeout(() => {
              timedOut = true;
              socket.close();
            }, options.timeoutMs);
          }
        },
        (e: unknown) => reject(new SandboxError("not_running", `exec failed: ${explain(e)}`)),
      );
    });
  }

  spawn(
    sessionId: string,
    argv: string[],
    options: { env?: Record<string, string>; cwd?: string } = {},
  ): ChildProcess {
    if (argv.length === 0 || !argv[0]) throw new SandboxError("invalid_spec", "spawn needs a command");
    const child = new RemoteProcess();
    const pidFile = `/tmp/hangar-spawn-${randomBytes(6).toString("hex")}.pid`;
    const input = new PassThrough();
    input.write(preludeLine(options.env ?? {}, options.cwd, pidFile));
    child.stdin.pipe(input);
    let podName: string | null = null;
    child.onKill = (signal) => {
      if (!podName) return child.finish(null, signal);
      void this.exec(sessionId, [
        "/bin/sh",
        "-c",
        `kill -s ${signal.replace(/^SIG/, "")} "$(cat ${pidFile})"`,
      ]).catch(() => undefined);
      if (signal === "SIGKILL") child.socket?.close();
    };
    this.runningPod(sessionId)
      .then(async (pod) => {
        podName = pod;
        child.socket = await this.run(pod, argv, input, child.stdout, child.stderr, (code) =>
          child.finish(code < 0 ? null : code, code < 0 ? "SIGKILL" : null),
        );
      })
      .catch((err: unknown) => {
        child.emit("error", err instanceof Error ? err : new Error(String(err)));
        child.finish(null, "SIGKILL");
      });
    return child as unknown as ChildProcess;
  }

  async startPty(sessionId: string, spec: PtySpec): Promise<PtyInfo> {
    if (!PTY_NAME.test(spec.name))
      throw new SandboxError("invalid_spec", `Invalid terminal name: ${spec.name}`);
    if (spec.argv.length === 0 || !spec.argv[0])
      throw new SandboxError("invalid_spec", "A terminal needs a command");
    const socket = `${PTY_DIR}/${spec.name}.sock`;
    const pidPath = `${PTY_DIR}/${spec.name}.pid`;
    const alive = `[ -S ${socket} ] && kill -0 "$(cat ${pidPath} 2>/dev/null)" 2>/dev/null`;
    const running = await this.exec(sessionId, ["/bin/sh", "-c", alive]);
    if (running.exitCode === 0) return { name: spec.name, holderPid: 0, created: false };
    const config = JSON.stringify({
      socketPath: socket,
      pidPath,
      argv: spec.argv,
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        LANG: "C.UTF-8",
        HOME: POD_HOME,
        ...spec.env,
      },
      cwd: spec.cwd === undefined ? POD_WORKSPACE : path.posix.resolve(POD_WORKSPACE, spec.cwd),
      cols: spec.cols,
      rows: spec.rows,
      title: spec.title ?? path.basename(spec.argv[0]),
    });
    // The holder outlives this exec: its config comes through a file that is unlinked once opened.
    const start = [
      "umask 077",
      `mkdir -p ${PTY_DIR}`,
      `cat > ${PTY_DIR}/${spec.name}.json`,
      `exec 3< ${PTY_DIR}/${spec.name}.json`,
      `rm -f ${PTY_DIR}/${spec.name}.json ${socket}`,
      `setsid ${quote(process.execPath)} ${quote(PTY_HOLDER)} <&3 >> ${PTY_DIR}/${spec.name}.log 2>&1 &`,
      `for i in $(seq 1 200); do ${alive} && exit 0; sleep 0.05; done`,
      `tail -n 20 ${PTY_DIR}/${spec.name}.log >&2; exit 1`,
    ].join("\n");
    const result = await this.exec(sessionId, ["/bin/sh", "-c", start], { stdin: config });
    if (result.exitCode !== 0) {
      throw new SandboxError(
        "launch_failed",
        `The terminal holder did not start: ${result.stderr.trim().slice(-500)}`,
      );
    }
    return { name: spec.name, holderPid: 0, created: true };
  }

  async attachPty(sessionId: string, name: string, events: Partial<PtyEvents>): Promise<PtyConnection> {
    if (!PTY_NAME.test(name)) throw new SandboxError("invalid_spec", `Invalid terminal name: ${name}`);
    const pod = await this.runningPod(sessionId);
    const socket = `${PTY_DIR}/${name}.sock`;
    const check = await this.exec(sessionId, ["/bin/sh", "-c", `[ -S ${socket} ]`]);
    if (check.exitCode !== 0) throw new SandboxError("not_running", `No terminal "${name}" in ${sessionId}`);
    const input = new PassThrough();
    input.write(preludeLine({}, undefined));
    const output = new PassThrough();
    let ws: { close: () => void } | null = null;
    const stream = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        input.write(chunk, cb);
      },
      final(cb) {
        input.end();
        ws?.close();
        cb();
      },
      read() {},
    });
    output.on("data", (chunk: Buffer) => stream.push(chunk));
    const connection = speakPty(stream, events);
    ws = await this.run(pod, [process.execPath, PTY_RELAY, socket], input, output, new PassThrough(), () => {
      stream.push(null);
      stream.destroy();
    });
    return connection;
  }

  // --- log mirror and tunnels ------------------------------------------------------------------------

  private follow(sessionId: string, sessionDir: string): LogMirror {
    let mirror = this.mirrors.get(sessionId);
    if (!mirror) {
      mirror = new LogMirror({
        kc: this.kc,
        core: this.core,
        namespace: this.ns,
        pod: () =>
          this.readObjects(sessionId).then((o) =>
            o.pod ? { name: o.podName, ended: observePod(o.pod).state === "exited" } : null,
          ),
        container: CONTAINER,
        paths: sessionPaths(sessionDir),
      });
      this.mirrors.set(sessionId, mirror);
      mirror.start();
    }
    return mirror;
  }

  async readLog(sessionId: string, tailLines: number): Promise<string> {
    const { pod, podName } = await this.readObjects(sessionId);
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
    const { sandbox } = await this.readObjects(sessionId);
    const current = (sandbox as { spec?: { shutdownTime?: string } } | null)?.spec?.shutdownTime;
    if (!sandbox || (current && Date.parse(current) - Date.now() > (ttl * 1000) / 2)) return;
    await this.custom.patchNamespacedCustomObject(
      {
        group: SANDBOX_API_GROUP,
        version: SANDBOX_API_VERSION,
        namespace: this.ns,
        plural: SANDBOX_PLURAL,
        name: objectName(sessionId),
        body: { spec: { shutdownTime: shutdownTime(new Date(), ttl) } },
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
  }

  /** Takes over a running sandbox this process did not launch: its log copy (rebuilt first), its tunnels. */
  async adopt(sessionId: string): Promise<void> {
    await this.follow(sessionId, this.sessionDir(sessionId)).catchUp();
    await this.openTunnels(sessionId);
  }

  async openTunnels(sessionId: string): Promise<void> {
    const { sandbox, pod } = await this.readObjects(sessionId);
    const annotations = (sandbox ?? pod)?.metadata as { annotations?: Record<string, string> } | undefined;
    const tunnels = JSON.parse(annotations?.annotations?.[TUNNELS_ANNOTATION] ?? "[]") as Tunnel[];
    await this.listenTunnels(sessionId, this.sessionDir(sessionId), tunnels);
  }

  /** Host socket (in the host-only run/tunnels/) → pod port, one port-forward stream per connection. */
  private async listenTunnels(sessionId: string, sessionDir: string, tunnels: Tunnel[]) {
    const sockDir = sessionPaths(sessionDir).tunnels;
    fs.mkdirSync(sockDir, { recursive: true, mode: 0o700 });
    for (const tunnel of tunnels) {
      const socketPath = path.join(sockDir, path.basename(tunnel.socketPath));
      const key = `${sessionId}\0${socketPath}`;
      if (this.tunnels.has(key)) continue;
      const server = net.createServer((conn) => void this.forwardOne(sessionId, tunnel.port, conn));
      fs.rmSync(socketPath, { force: true });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socketPath, resolve);
      });
      fs.chmodSync(socketPath, 0o600);
      server.unref();
      this.tunnels.set(key, server);
    }
  }

  private async forwardOne(sessionId: string, port: number, conn: net.Socket) {
    conn.on("error", () => undefined);
    try {
      const pod = await this.runningPod(sessionId);
      const out = new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (conn.destroyed) return cb();
          conn.write(chunk, () => cb());
        },
      });
      const ws = (await this.forward.portForward(this.ns, pod, [port], out, null, conn)) as {
        on: (event: string, cb: () => void) => void;
        close: () => void;
      };
      ws.on("close", () => conn.destroy());
      conn.on("close", () => ws.close());
    } catch (err) {
      log.warn("port-forward failed", { sessionId, port, error: explain(err) });
      conn.destroy();
    }
  }

  private async closeTunnels(sessionId: string) {
    for (const [key, server] of this.tunnels) {
      if (!key.startsWith(`${sessionId}\0`)) continue;
      this.tunnels.delete(key);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
