/*
 * Pure builders of the objects the Kubernetes driver sends for one session: the agent-sandbox
 * `Sandbox` (or, without its CRD, a Pod and a headless Service) and the per-session Secret that
 * carries the bootstrap spec (sandbox files, per-session env vars). Nothing here talks to a cluster,
 * so every object can be schema-checked (lib/kubernetes/validate.ts) and unit-tested.
 *
 * The pod mirrors the local sandbox's layout: uid 1000, HOME=/home/agent, the workspace under it,
 * the bootstrap as the main process. The Secret is mounted only into a short init container that
 * copies the spec into the home volume (the bootstrap deletes it once read), so the agent's own
 * container never sees the Secret.
 */

export const SANDBOX_API_GROUP = "agents.x-k8s.io";
export const SANDBOX_API_VERSION = "v1beta1";
export const SANDBOX_PLURAL = "sandboxes";

export const CONTAINER = "sandbox";
export const POD_HOME = "/home/agent";
export const POD_WORKSPACE = "/home/agent/workspace";
export const POD_UID = 1000;
const BOOT_MOUNT = "/run/hangar/boot";

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
  /** Files for ~/ at start (path relative to home → content), e.g. `.hangar/boot.json`. */
  homeFiles: Record<string, Buffer>;
  /** Container ports Hangar tunnels to (the harness server). */
  ports: number[];
  memoryMiB?: number;
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
};

export function buildPodSpec(input: SessionObjectsInput, restartPolicy: "Never" = "Never") {
  const memory = input.memoryMiB ? { memory: `${input.memoryMiB}Mi` } : undefined;
  const home = { name: "home", mountPath: POD_HOME };
  return {
    restartPolicy,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 5,
    ...(input.runtimeClassName ? { runtimeClassName: input.runtimeClassName } : {}),
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
        securityContext: dropAll,
        volumeMounts: [home, { name: "boot", mountPath: BOOT_MOUNT, readOnly: true }],
      },
    ],
    containers: [
      {
        name: CONTAINER,
        image: input.image,
        command: input.argv,
        env: Object.entries({ ...input.env, HOME: POD_HOME }).map(([name, value]) => ({ name, value })),
        workingDir: POD_WORKSPACE,
        ports: input.ports.map((port) => ({ containerPort: port, protocol: "TCP" })),
        ...(memory ? { resources: { requests: memory, limits: memory } } : {}),
        securityContext: dropAll,
        volumeMounts: [home, { name: "tmp", mountPath: "/tmp" }],
      },
    ],
    volumes: [
      {
        name: "boot",
        secret: {
          secretName: secretName(input.sessionId),
          defaultMode: 0o400,
          // Secret keys cannot hold "/": each file's key is its path with "/" spelled "__".
          items: Object.keys(input.homeFiles).map((file) => ({ key: secretKey(file), path: file })),
        },
      },
      { name: "home", emptyDir: {} },
      { name: "tmp", emptyDir: {} },
    ],
  };
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** Copies each file out of the Secret's mount (its links resolved: kubelet mounts through ..data). */
function copyScript(files: string[]): string {
  const steps = files.map((file) => {
    const target = `${POD_HOME}/${file}`;
    return `mkdir -p ${quote(target.slice(0, target.lastIndexOf("/")))} && cat ${quote(`${BOOT_MOUNT}/${file}`)} > ${quote(target)}`;
  });
  return ["umask 077", `mkdir -p ${POD_WORKSPACE}`, ...steps].join(" && ");
}

function secretKey(file: string): string {
  return file.replace(/^\.+/, "dot-").replaceAll("/", "__");
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
