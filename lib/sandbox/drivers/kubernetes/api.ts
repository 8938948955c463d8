import * as k8s from "@kubernetes/client-node";

import { SANDBOX_API_GROUP, SANDBOX_API_VERSION, SANDBOX_PLURAL } from "./objects";

/*
 * The Kubernetes driver's access to the API server: the clients it calls, bound to the sandbox
 * namespace, the agent-sandbox `Sandbox` calls with their group, version and plural filled in, and
 * how a failed call reads.
 */

/** KUBECONFIG, ~/.kube/config, then the in-cluster service account; an error when none names a cluster. */
export function loadKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error(
      "HANGAR_SANDBOX_DRIVER=kubernetes found no cluster: set KUBECONFIG, or run Hangar in a pod with a service account",
    );
  }
  return kc;
}

/** The HTTP status of a failed API call (client-node's ApiException), or undefined. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? err.code : undefined;
}

/** A failed call as one line: the API server's V1Status message when it sent one. */
export function explain(err: unknown): string {
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

/** The call's answer, or null when the object is not there (404). */
export async function orNull<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

const mergePatch = () => k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

/** The API clients of one namespace, and the calls on its agent-sandbox `Sandbox` resources. */
export class Cluster {
  readonly core: k8s.CoreV1Api;
  readonly custom: k8s.CustomObjectsApi;
  readonly networking: k8s.NetworkingV1Api;

  constructor(
    readonly kc: k8s.KubeConfig,
    readonly namespace: string,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.networking = kc.makeApiClient(k8s.NetworkingV1Api);
  }

  /** The watch path of the namespace's pods. */
  get podsPath() {
    return `/api/v1/namespaces/${this.namespace}/pods`;
  }

  /** The watch path of the namespace's Sandboxes. */
  get sandboxesPath() {
    return `/apis/${SANDBOX_API_GROUP}/${SANDBOX_API_VERSION}/namespaces/${this.namespace}/${SANDBOX_PLURAL}`;
  }

  private get sandboxes() {
    return {
      group: SANDBOX_API_GROUP,
      version: SANDBOX_API_VERSION,
      namespace: this.namespace,
      plural: SANDBOX_PLURAL,
    };
  }

  listSandboxes(query: { labelSelector?: string; limit?: number }) {
    return this.custom.listNamespacedCustomObject({ ...this.sandboxes, ...query }) as Promise<
      k8s.KubernetesListObject<k8s.KubernetesObject>
    >;
  }

  getSandbox(name: string): Promise<unknown> {
    return this.custom.getNamespacedCustomObject({ ...this.sandboxes, name });
  }

  createSandbox(body: object): Promise<unknown> {
    return this.custom.createNamespacedCustomObject({ ...this.sandboxes, body });
  }

  deleteSandbox(name: string, options: { propagationPolicy?: string } = {}): Promise<unknown> {
    return this.custom.deleteNamespacedCustomObject({ ...this.sandboxes, name, ...options });
  }

  /** A JSON merge patch of one Sandbox. */
  patchSandbox(name: string, body: object): Promise<unknown> {
    return this.custom.patchNamespacedCustomObject({ ...this.sandboxes, name, body }, mergePatch());
  }

  /** A JSON merge patch of one Secret. */
  patchSecret(name: string, body: object): Promise<k8s.V1Secret> {
    return this.core.patchNamespacedSecret({ name, namespace: this.namespace, body }, mergePatch());
  }
}
