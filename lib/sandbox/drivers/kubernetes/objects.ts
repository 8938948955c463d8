import { SANDBOX_PRIVATE } from "../../types";

/*
 * Pure builders of the objects the Kubernetes driver sends for one session: the agent-sandbox
 * `Sandbox` (or, without its CRD, a Pod and a headless Service) and the per-session Secret that
 * carries the bootstrap spec (sandbox files, per-session env vars). Nothing here talks to a cluster,
 * so every object can be schema-checked (e2e/support/kubernetes/validate.ts) and unit-tested.
 *
 * The pod mirrors the local sandbox's layout: uid 1000, HOME=/home/agent, the workspace under it,
 * the bootstrap as the main process. The Secret is mounted only into a short init container that
 * copies the spec into the home volume (the bootstrap deletes it once read), so the agent's own
 * container never sees the Secret.
 *
 * The pod is bounded and has no name service: CPU, memory and ephemeral storage are limited (and
 * requested), every emptyDir has a size, RLIMIT_NPROC caps its processes, and DNS points at the pod's
 * own loopback (`dnsPolicy: None`), where nothing answers. A sandbox needs no DNS: it reaches only the
 * gateway, by a name its /etc/hosts maps (hostAliases), and the gateway resolves everything else.
 * Without this, any name lookup would carry data to whoever serves that domain, past allow_out.
 */

export const SANDBOX_API_GROUP = "agents.x-k8s.io";
export const SANDBOX_API_VERSION = "v1beta1";
export const SANDBOX_PLURAL = "sandboxes";

export const CONTAINER = "sandbox";
export const POD_HOME = "/home/agent";
export const POD_WORKSPACE = "/home/agent/workspace";
export const POD_UID = 1000;
const BOOT_MOUNT = "/run/hangar/boot";
/** The sandbox's private memory-backed folder: the env file and boot plan, a few KiB (see types.ts). */
export const PRIVATE_SIZE = "16Mi";
/** The resolver a sandbox is given: its own loopback, where nothing serves DNS. */
export const POD_NAMESERVER = "127.0.0.1";
/** The container's command starts under this, which sets RLIMIT_NPROC before the bootstrap runs. */
export const PRLIMIT = "/usr/bin/prlimit";
/**
 * What the scheduler reserves per sandbox, at most (a sandbox idles most of its life); the limits
 * are the configured ones. Memory is the exception: requested in full, so a busy node never has to
 * kill a sandbox that stays within its own limit.
 */
const CPU_REQUEST_MILLIS = 250;
const DISK_REQUEST_MIB = 1024;

/** Labels on every object, for selection (reconciler, NetworkPolicies) and for people reading kubectl. */
export const LABEL = {
  managedBy: "app.kubernetes.io/managed-by",
  component: "app.kubernetes.io/component",
  instance: "hangar.dev/instance",
  session: "hangar.dev/session-id",
  agent: "hangar.dev/agent-id",
} as const;

export type SessionObjectsInput = {
  sessionId: string;
  agentId?: string;
  namespace: string;
  /** Tells this installation's sandboxes from another's in the same namespace. */
  instance: string;
  image: string;
  argv: string[];
  env: Record<string, string>;
  /**
   * Files at start (path → content): relative to home, e.g. `.hangar/boot.json`, or absolute under
   * SANDBOX_PRIVATE (memory, not the node's disk: the place for a file that holds secrets).
   */
  homeFiles: Record<string, Buffer>;
  /** Container ports Hangar tunnels to (the harness server). */
  ports: number[];
  memoryMiB?: number;
  /** CPU limit in millicores. */
  cpuMillis?: number;
  /** Ephemeral storage the pod may fill (its emptyDirs, writable layer and logs), MiB. */
  diskMiB?: number;
  /**
   * RLIMIT_NPROC of the sandbox's processes, set before the bootstrap starts (and, through
   * HANGAR_NPROC, by the driver before each exec). It counts every task of uid 1000 in the pod's user
   * namespace: the pod's own with `userNamespaces`, else every uid-1000 task on the node.
   */
  nproc?: number;
  /** `hostUsers: false`: the pod gets its own user namespace. */
  userNamespaces?: boolean;
  /** The gateway's name → its Service's ClusterIP, written to the pod's /etc/hosts. */
  gatewayAlias?: { ip: string; hostnames: string[] };
  runtimeClassName?: string;
  /**
   * Safety net (Sandbox resources): the controller deletes the sandbox this long after it was last
   * renewed, so sandboxes do not outlive a Hangar that is gone for good.
   */
  ttlSeconds?: number;
  now?: Date;
};

type Meta = { name: string; namespace: string; labels: Record<string, string> };
export type OwnerReference = { apiVersion: string; kind: string; name: string; uid: string };

/** DNS-1123 names: session ids are `sess_<ulid>` in lower case, so only the underscore changes. */
export function objectName(sessionId: string): string {
  return `hangar-${sessionId.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`;
}

export function secretName(sessionId: string): string {
  return `${objectName(sessionId)}-boot`;
}

export function sessionLabels(input: Pick<SessionObjectsInput, "sessionId" | "agentId" | "instance">) {
  return {
    [LABEL.managedBy]: "hangar",
    [LABEL.component]: "sandbox",
    [LABEL.instance]: input.instance,
    [LABEL.session]: input.sessionId,
    ...(input.agentId ? { [LABEL.agent]: input.agentId } : {}),
  };
}

/** The selector that finds every sandbox object of one installation. */
export function instanceSelector(instance: string): string {
  return `${LABEL.managedBy}=hangar,${LABEL.component}=sandbox,${LABEL.instance}=${instance}`;
}

function meta(input: SessionObjectsInput, name = objectName(input.sessionId)): Meta {
  return { name, namespace: input.namespace, labels: sessionLabels(input) };
}

const dropAll = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  runAsNonRoot: true,
  runAsUser: POD_UID,
  runAsGroup: POD_UID,
  seccompProfile: { type: "RuntimeDefault" },
  // Everything the agent may write is a volume below (home, /tmp, /var/tmp, the private folder).
  readOnlyRootFilesystem: true,
};

/** The init container only copies a few files: small, fixed bounds. */
const INIT_RESOURCES = {
  requests: { cpu: "50m", memory: "32Mi", "ephemeral-storage": "16Mi" },
  limits: { cpu: "500m", memory: "64Mi", "ephemeral-storage": "64Mi" },
};

/** Requests and limits of the sandbox container, for what the input bounds. */
export function sandboxResources(input: Pick<SessionObjectsInput, "memoryMiB" | "cpuMillis" | "diskMiB">) {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (input.cpuMillis) {
    limits.cpu = `${input.cpuMillis}m`;
    requests.cpu = `${Math.min(input.cpuMillis, CPU_REQUEST_MILLIS)}m`;
  }
  if (input.memoryMiB) limits.memory = requests.memory = `${input.memoryMiB}Mi`;
  if (input.diskMiB) {
    limits["ephemeral-storage"] = `${input.diskMiB}Mi`;
    requests["ephemeral-storage"] = `${Math.min(input.diskMiB, DISK_REQUEST_MIB)}Mi`;
  }
  return Object.keys(limits).length > 0 ? { requests, limits } : undefined;
}

/** The main command, under prlimit when the processes are capped (the hard limit too: no raising it). */
function command(input: SessionObjectsInput): string[] {
  if (!input.nproc) return input.argv;
  return [PRLIMIT, `--nproc=${input.nproc}:${input.nproc}`, "--", ...input.argv];
}

export function buildPodSpec(input: SessionObjectsInput, restartPolicy: "Never" = "Never") {
  const resources = sandboxResources(input);
  const home = { name: "home", mountPath: POD_HOME };
  const size = input.diskMiB ? { sizeLimit: `${input.diskMiB}Mi` } : {};
  const env = {
    ...input.env,
    HOME: POD_HOME,
    ...(input.nproc ? { HANGAR_NPROC: String(input.nproc) } : {}),
  };
  return {
    restartPolicy,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 5,
    ...(input.runtimeClassName ? { runtimeClassName: input.runtimeClassName } : {}),
    ...(input.userNamespaces ? { hostUsers: false } : {}),
    dnsPolicy: "None",
    dnsConfig: { nameservers: [POD_NAMESERVER] },
    ...(input.gatewayAlias ? { hostAliases: [input.gatewayAlias] } : {}),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: POD_UID,
      runAsGroup: POD_UID,
      fsGroup: POD_UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    initContainers: [
      {
        name: "boot-files",
        image: input.image,
        command: ["/bin/sh", "-c", copyScript(Object.keys(input.homeFiles))],
        resources: INIT_RESOURCES,
        securityContext: dropAll,
        volumeMounts: [
          home,
          { name: "private", mountPath: SANDBOX_PRIVATE },
          { name: "boot", mountPath: BOOT_MOUNT, readOnly: true },
        ],
      },
    ],
    containers: [
      {
        name: CONTAINER,
        image: input.image,
        command: command(input),
        env: Object.entries(env).map(([name, value]) => ({ name, value })),
        workingDir: POD_WORKSPACE,
        ports: input.ports.map((port) => ({ containerPort: port, protocol: "TCP" })),
        ...(resources ? { resources } : {}),
        securityContext: dropAll,
        volumeMounts: [
          home,
          { name: "tmp", mountPath: "/tmp" },
          { name: "var-tmp", mountPath: "/var/tmp" },
          { name: "private", mountPath: SANDBOX_PRIVATE },
        ],
      },
    ],
    volumes: [
      {
        name: "boot",
        secret: {
          secretName: secretName(input.sessionId),
          defaultMode: 0o400,
          // Secret keys cannot hold "/": each file's key is its path with "/" spelled "__".
          items: Object.keys(input.homeFiles).map((file) => ({ key: secretKey(file), path: itemPath(file) })),
        },
      },
      // Each as large as the pod's whole allowance: the ephemeral-storage limit bounds their sum.
      { name: "home", emptyDir: { ...size } },
      { name: "tmp", emptyDir: { ...size } },
      { name: "var-tmp", emptyDir: { ...size } },
      // tmpfs, counted in the pod's memory: the secrets the bootstrap keeps never touch a disk.
      { name: "private", emptyDir: { medium: "Memory", sizeLimit: PRIVATE_SIZE } },
    ],
  };
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** Where a file lands in the pod: under home, or at its absolute path (the private folder). */
function targetPath(file: string): string {
  return file.startsWith("/") ? file : `${POD_HOME}/${file}`;
}

/** Its path inside the Secret's mount, which must be relative. */
function itemPath(file: string): string {
  return file.replace(/^\/+/, "");
}

/** Copies each file out of the Secret's mount (its links resolved: kubelet mounts through ..data). */
function copyScript(files: string[]): string {
  const steps = files.map((file) => {
    const target = targetPath(file);
    return `mkdir -p ${quote(target.slice(0, target.lastIndexOf("/")))} && cat ${quote(`${BOOT_MOUNT}/${itemPath(file)}`)} > ${quote(target)}`;
  });
  return ["umask 077", `mkdir -p ${POD_WORKSPACE}`, ...steps].join(" && ");
}

function secretKey(file: string): string {
  return itemPath(file).replace(/^\.+/, "dot-").replaceAll("/", "__");
}

/** An agent-sandbox Sandbox: the controller makes the pod (same name) and a headless Service. */
export function buildSandbox(input: SessionObjectsInput) {
  const now = input.now ?? new Date();
  return {
    apiVersion: `${SANDBOX_API_GROUP}/${SANDBOX_API_VERSION}`,
    kind: "Sandbox",
    metadata: meta(input),
    spec: {
      podTemplate: { metadata: { labels: sessionLabels(input) }, spec: buildPodSpec(input) },
      service: true,
      ...(input.ttlSeconds
        ? { shutdownTime: shutdownTime(now, input.ttlSeconds), shutdownPolicy: "Delete" }
        : {}),
    },
  };
}

/** RFC 3339 in whole seconds, as the CRD's date-time field and kubectl show it. */
export function shutdownTime(now: Date, ttlSeconds: number): string {
  return new Date(now.getTime() + ttlSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

/**
 * The fallback without the CRD: a bare Pod. No cluster-side expiry (activeDeadlineSeconds cannot be
 * pushed back while a session is in use): Hangar's idle reaper and reconciler remove it.
 */
export function buildPod(input: SessionObjectsInput) {
  return { apiVersion: "v1", kind: "Pod", metadata: meta(input), spec: buildPodSpec(input) };
}

/** A headless Service for the fallback pod, so it has a DNS name like a Sandbox's. */
export function buildService(input: SessionObjectsInput, owner: OwnerReference) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { ...meta(input), ownerReferences: [ownerRef(owner)] },
    spec: {
      clusterIP: "None",
      selector: { [LABEL.session]: input.sessionId, [LABEL.instance]: input.instance },
      ports: input.ports.map((port) => ({ name: `tcp-${port}`, port, targetPort: port, protocol: "TCP" })),
    },
  };
}

/**
 * The per-session Secret. It is created before the sandbox (a pod waits for the Secret it mounts),
 * then given an owner reference to it, so deleting the sandbox deletes the Secret.
 */
export function buildBootSecret(input: SessionObjectsInput) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: meta(input, secretName(input.sessionId)),
    data: Object.fromEntries(
      Object.entries(input.homeFiles).map(([file, bytes]) => [secretKey(file), bytes.toString("base64")]),
    ),
  };
}

export function ownerRef(owner: OwnerReference) {
  return { ...owner, controller: true, blockOwnerDeletion: true };
}
