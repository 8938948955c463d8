import type * as k8s from "@kubernetes/client-node";

import { SandboxError } from "../../types";
import { orNull, type Cluster } from "./api";
import { ObjectWatchCache } from "./cache";
import { instanceSelector, objectName } from "./objects";
import { observePod, observeSandbox, sandboxPodName, type PodLike, type SandboxLike } from "./status";

/*
 * Finding a session's objects: its Sandbox (in sandbox mode) and the Pod running it. Reads come from
 * watch-fed caches of this installation's pods and Sandboxes, started on first use, and fall back to
 * a GET on a miss.
 */

export type SessionObjects = {
  sandbox: (SandboxLike & { metadata?: { creationTimestamp?: string } }) | null;
  pod: PodLike | null;
  podName: string;
};

export class SessionLookup {
  private podCache: ObjectWatchCache<k8s.V1Pod> | null = null;
  private sandboxCache: ObjectWatchCache<k8s.KubernetesObject> | null = null;

  constructor(
    private readonly cluster: Cluster,
    private readonly instance: string,
    private readonly mode: () => Promise<"sandbox" | "pod">,
  ) {}

  private get ns() {
    return this.cluster.namespace;
  }

  /** Watch-fed caches of this installation's pods (and Sandboxes), started on first use. */
  private async caches() {
    const selector = instanceSelector(this.instance);
    const mode = await this.mode();
    this.podCache ??= new ObjectWatchCache<k8s.V1Pod>(
      this.cluster.kc,
      this.cluster.podsPath,
      () => this.cluster.core.listNamespacedPod({ namespace: this.ns, labelSelector: selector }),
      selector,
    );
    this.podCache.start();
    if (mode === "sandbox") {
      this.sandboxCache ??= new ObjectWatchCache<k8s.KubernetesObject>(
        this.cluster.kc,
        this.cluster.sandboxesPath,
        () => this.cluster.listSandboxes({ labelSelector: selector }),
        selector,
      );
      this.sandboxCache.start();
    }
    return mode;
  }

  private async readPod(name: string): Promise<PodLike | null> {
    const cached = this.podCache?.get(name, this.ns);
    if (cached) return cached as PodLike;
    return (await orNull(
      this.cluster.core.readNamespacedPod({ name, namespace: this.ns }),
    )) as PodLike | null;
  }

  /** The session's Sandbox and Pod, each null when there is none. */
  async read(sessionId: string): Promise<SessionObjects> {
    const name = objectName(sessionId);
    if ((await this.caches()) === "pod")
      return { sandbox: null, pod: await this.readPod(name), podName: name };
    const sandbox = ((this.sandboxCache?.get(name, this.ns) as SandboxLike | undefined) ??
      (await orNull(this.cluster.getSandbox(name)))) as SessionObjects["sandbox"];
    if (!sandbox) return { sandbox: null, pod: null, podName: name };
    const podName = sandboxPodName(sandbox, name);
    return { sandbox, pod: await this.readPod(podName), podName };
  }

  /** The pod of a running sandbox, or an error saying why there is none. */
  async runningPod(sessionId: string): Promise<string> {
    const { sandbox, pod, podName } = await this.read(sessionId);
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

  /** Stops the watches. */
  close() {
    this.podCache?.stop();
    this.sandboxCache?.stop();
  }
}
