import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

import yaml from "js-yaml";

import { LocalDriver } from "@/lib/sandbox/drivers/local";
import type { Bridge } from "@/lib/sandbox/types";

import { SandboxController } from "./controller";
import { handleRequest, type ApiContext, type DenyRule, type RecordedRequest } from "./http";
import { Kubelet } from "./kubelet";
import { typeOfKind } from "./resources";
import type { KubeObject } from "./selectors";
import { Store } from "./store";
import { createUpgradeHandler } from "./ws";

/*
 * A stand-in API server for contract tests: NOT Kubernetes. It serves the slice of the Kubernetes API a
 * sandbox driver uses (discovery; pods, services, secrets, configmaps, events, namespaces,
 * networkpolicies and agents.x-k8s.io/v1beta1 sandboxes; watch; patch; status subresource; owner
 * cascade; pod log, exec, attach and port-forward), to the real @kubernetes/client-node. The test plays
 * the agent-sandbox controller (built-in simulation in controller.ts, or by hand with `controller:
 * false` and `setCondition`), and the kubelet runs pods as real processes in bubblewrap sandboxes of
 * Hangar's local driver (kubelet.ts). Nothing checks admission, RBAC (beyond `deny` rules), schemas or
 * quotas; use the opt-in live lane for those.
 *
 * Transport: plain HTTP on 127.0.0.1 with a bearer token. client-node refuses http:// servers unless the
 * kubeconfig's cluster says `insecure-skip-tls-verify: true`, so the generated kubeconfig does; no
 * certificate is involved.
 */

export type { DenyRule, RecordedRequest } from "./http";
export { NAME_HASH_LABEL, nameHash } from "./controller";

export type KubeStandInOptions = {
  /** Serve agents.x-k8s.io/v1beta1 sandboxes (default true); without, discovery of that group is 404. */
  crds?: boolean;
  /** The built-in agent-sandbox controller simulation (default true). */
  controller?: boolean;
  /** Run pods as real processes (default true). Without, pods stay Pending and deletes are immediate. */
  kubelet?: boolean;
  /** Inside every pod, 127.0.0.1:port reaches this host Unix socket (in place of a cluster Service). */
  clusterServices?: Bridge[];
  /** Namespaces that exist from the start (default: default, hangar-sandboxes). */
  namespaces?: string[];
  /** Actions SelfSubjectAccessReview reports as denied and the server answers with 403. */
  deny?: DenyRule[];
  /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK (default 1000 ms). */
  bookmarkIntervalMs?: number;
};

export type ConditionInput = {
  kind: "Sandbox" | "Pod";
  namespace?: string;
  name: string;
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
};

export type KubeStandIn = {
  url: string;
  token: string;
  kubeconfig: string;
  kubeconfigPath: string;
  /** Every request received, oldest first (WebSocket upgrades included, with no body). */
  requests: RecordedRequest[];
  /** Copies of the stored objects of a kind ("Pod" or "pods"), in one namespace or all. */
  objects(kind: string, namespace?: string): KubeObject[];
  /** Pods named so, or using this image, never start: ErrImagePull, then ImagePullBackOff. */
  failImagePull(podNameOrImage: string, message: string): void;
  /** A pod of this name created from now on stays Pending, PodScheduled False/Unschedulable. */
  makeUnschedulable(podName: string, message: string): void;
  /** Kills a running container (the first, or the named one): terminated OOMKilled, exit code 137. */
  oomKill(podName: string, options?: { namespace?: string; container?: string }): void;
  /** Sets (replaces by type) one status condition, as a controller would, through the status path. */
  setCondition(condition: ConditionInput): KubeObject;
  /** Merges into an object's status, as a controller would. */
  patchStatus(
    kind: "Sandbox" | "Pod",
    namespace: string,
    name: string,
    status: Record<string, unknown>,
  ): KubeObject;
  /** Compacts history: any watch from a resourceVersion older than now gets 410 Gone (ERROR event). */
  expireResourceVersions(): void;
  /** Kills every pod process, closes the server and removes temporary files. */
  stop(): Promise<void>;
};

const NAMESPACE = "default";

export async function startKubeStandIn(options: KubeStandInOptions = {}): Promise<KubeStandIn> {
  const store = new Store(options.namespaces ?? ["default", "hangar-sandboxes"]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-kube-standin-"));
  const driver =
    options.kubelet === false ? undefined : new LocalDriver({ root: path.join(tmp, "pods"), cgroups: "off" });
  if (driver) fs.mkdirSync(driver.root, { recursive: true });
  const kubelet = driver
    ? new Kubelet({ store, driver, clusterServices: options.clusterServices ?? [] })
    : undefined;
  const controller =
    options.controller === false || options.crds === false ? undefined : new SandboxController(store);
  const ctx: ApiContext = {
    store,
    token: randomBytes(24).toString("hex"),
    crds: options.crds !== false,
    deny: options.deny ?? [],
    requests: [],
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    logs: kubelet,
  };
  const upgrades = createUpgradeHandler(ctx, kubelet);
  const server = http.createServer((req, res) => void handleRequest(ctx, req, res));
  server.on("upgrade", upgrades.handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = yaml.dump({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "standin", cluster: { server: url, "insecure-skip-tls-verify": true } }],
    users: [{ name: "standin-user", user: { token: ctx.token } }],
    contexts: [
      { name: "standin", context: { cluster: "standin", user: "standin-user", namespace: NAMESPACE } },
    ],
    "current-context": "standin",
  });
  const kubeconfigPath = path.join(tmp, "kubeconfig.yaml");
  fs.writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });

  const typeOf = (kind: string) => {
    const type = typeOfKind(kind);
    if (!type) throw new Error(`The stand-in API server does not serve ${kind}`);
    return type;
  };
  const patchStatus = (
    kind: "Sandbox" | "Pod",
    namespace: string,
    name: string,
    change: (status: any) => any,
  ) => {
    const obj = store.get(typeOf(kind), namespace, name);
    return store.update(
      typeOf(kind),
      namespace,
      name,
      { ...obj, status: change(obj.status ?? {}) },
      "status",
    );
  };

  return {
    url,
    token: ctx.token,
    kubeconfig,
    kubeconfigPath,
    requests: ctx.requests,
    objects: (kind, namespace) => store.list(typeOf(kind), namespace),
    failImagePull: (target, message) => requireKubelet(kubelet).failImagePull(target, message),
    makeUnschedulable: (podName, message) => requireKubelet(kubelet).makeUnschedulable(podName, message),
    oomKill: (podName, o = {}) =>
      requireKubelet(kubelet).oomKill(o.namespace ?? NAMESPACE, podName, o.container),
    setCondition: ({ kind, namespace = NAMESPACE, name, ...condition }) =>
      patchStatus(kind, namespace, name, (status) => ({
        ...status,
        conditions: [
          ...(status.conditions ?? []).filter((c: { type: string }) => c.type !== condition.type),
          { ...condition, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") },
        ],
      })),
    patchStatus: (kind, namespace, name, status) =>
      patchStatus(kind, namespace, name, (old) => ({ ...old, ...status })),
    expireResourceVersions: () => store.compact(),
    async stop() {
      controller?.stop();
      upgrades.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await kubelet?.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

function requireKubelet(kubelet: Kubelet | undefined): Kubelet {
  if (!kubelet) throw new Error("This stand-in runs without a kubelet (kubelet: false)");
  return kubelet;
}
