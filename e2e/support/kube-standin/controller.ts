import { apiVersionOf, typeOfKind } from "./resources";
import type { KubeObject } from "./selectors";
import { StatusError } from "./status";
import type { Store, StoreEvent } from "./store";

/*
 * A simulation of the agent-sandbox controller (kubernetes-sigs/agent-sandbox, Sandbox v1beta1), from
 * its documented behaviour, not its code: one Pod per Sandbox from spec.podTemplate, a headless Service
 * when spec.service is true, status.conditions (Ready / PodScheduled / Finished), podIPs, selector,
 * service and serviceFQDN, operatingMode Suspended (pod deleted), shutdownTime with shutdownPolicy
 * Delete (sandbox deleted) or Retain (pod deleted, Ready False/SandboxExpired). Deletion cascades through
 * owner references (store.ts). Not simulated: warm pools and claims, volumeClaimTemplates, the
 * `Suspended` condition's progress reasons, adoption through the pod-name annotation.
 */

export const NAME_HASH_LABEL = "agents.x-k8s.io/sandbox-name-hash";
export const CLUSTER_DOMAIN = "cluster.local";

/** 32-bit FNV-1a of the name, as 8 hex digits (the label value upstream derives from the name). */
export function nameHash(name: string): string {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

export class SandboxController {
  private readonly sandboxes = typeOfKind("Sandbox")!;
  private readonly pods = typeOfKind("Pod")!;
  private readonly services = typeOfKind("Service")!;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly listener = (e: StoreEvent) => this.onEvent(e);
  private queued = new Set<string>();

  constructor(private readonly store: Store) {
    store.on("event", this.listener);
    for (const s of store.list(this.sandboxes, undefined))
      this.enqueue(s.metadata.namespace!, s.metadata.name!);
  }

  stop() {
    this.store.off("event", this.listener);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private onEvent(e: StoreEvent) {
    const obj = e.object;
    if (e.resource === this.sandboxes) {
      if (e.type === "DELETED") {
        clearTimeout(this.timers.get(`${obj.metadata.namespace}/${obj.metadata.name}`));
        return;
      }
      // Our own status writes change nothing the reconciler reads.
      this.enqueue(obj.metadata.namespace!, obj.metadata.name!);
    } else if (e.resource === this.pods || e.resource === this.services) {
      const owner = obj.metadata.ownerReferences?.find((r) => r.kind === "Sandbox" && r.controller);
      if (owner) this.enqueue(obj.metadata.namespace!, owner.name);
    }
  }

  /** Reconciles once per tick and sandbox, after the write that triggered it has been published. */
  private enqueue(namespace: string, name: string) {
    const key = `${namespace}/${name}`;
    if (this.queued.has(key)) return;
    this.queued.add(key);
    setImmediate(() => {
      this.queued.delete(key);
      try {
        this.reconcile(namespace, name);
      } catch (err) {
        if (!(err instanceof StatusError)) throw err;
      }
    });
  }

  private reconcile(namespace: string, name: string) {
    const sandbox = this.store.find(this.sandboxes, namespace, name);
    if (!sandbox || sandbox.metadata.deletionTimestamp) return;
    const spec = sandbox.spec ?? {};
    const key = `${namespace}/${name}`;
    const podName = sandbox.metadata.annotations?.["agents.x-k8s.io/pod-name"] ?? name;
    let pod = this.store.find(this.pods, namespace, podName);
    const hash = nameHash(name);

    let expired = false;
    if (spec.shutdownTime) {
      const at = Date.parse(spec.shutdownTime);
      clearTimeout(this.timers.get(key));
      if (at <= Date.now()) {
        if (spec.shutdownPolicy === "Delete") {
          this.store.delete(this.sandboxes, namespace, name);
          return;
        }
        expired = true;
      } else {
        const timer = setTimeout(
          () => this.enqueue(namespace, name),
          Math.min(at - Date.now() + 10, 2 ** 31 - 1),
        );
        timer.unref();
        this.timers.set(key, timer);
      }
    }
    const suspended = spec.operatingMode === "Suspended";
    const owner = {
      apiVersion: apiVersionOf(this.sandboxes),
      kind: "Sandbox",
      name,
      uid: sandbox.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };

    if ((suspended || expired) && pod && !pod.metadata.deletionTimestamp) {
      this.store.delete(this.pods, namespace, podName);
      pod = this.store.find(this.pods, namespace, podName);
    } else if (!suspended && !expired && !pod) {
      const template = spec.podTemplate ?? {};
      pod = this.store.create(this.pods, namespace, {
        metadata: {
          name: podName,
          labels: { ...template.metadata?.labels, [NAME_HASH_LABEL]: hash },
          ...(template.metadata?.annotations && { annotations: template.metadata.annotations }),
          ownerReferences: [owner],
        },
        spec: structuredClone(template.spec ?? {}),
      });
    }

    let service: KubeObject | undefined;
    if (spec.service === true) {
      service = this.store.find(this.services, namespace, name);
      service ??= this.store.create(this.services, namespace, {
        metadata: { name, labels: { [NAME_HASH_LABEL]: hash }, ownerReferences: [owner] },
        spec: { clusterIP: "None", selector: { [NAME_HASH_LABEL]: hash } },
      });
    }

    const generation = sandbox.metadata.generation;
    const previous = new Map<string, any>((sandbox.status?.conditions ?? []).map((c: any) => [c.type, c]));
    const condition = (type: string, status: boolean, reason: string, message: string) => {
      const value = status ? "True" : "False";
      const old = previous.get(type);
      return {
        type,
        status: value,
        observedGeneration: generation,
        lastTransitionTime: old?.status === value ? old.lastTransitionTime : now(),
        reason,
        message,
      };
    };
    const podCondition = (type: string) => (pod?.status?.conditions ?? []).find((c: any) => c.type === type);
    const phase = pod?.status?.phase;
    const terminal = phase === "Succeeded" || phase === "Failed";
    const podReady =
      phase === "Running" && podCondition("Ready")?.status === "True" && Boolean(pod?.status?.podIP);
    const conditions: ReturnType<typeof condition>[] = [];
    if (suspended) conditions.push(condition("Ready", false, "SandboxSuspended", "Sandbox is suspended"));
    else if (expired) conditions.push(condition("Ready", false, "SandboxExpired", "Sandbox has expired"));
    else if (terminal) conditions.push(condition("Ready", false, `Pod${phase}`, `Pod is ${phase}`));
    else if (podReady)
      conditions.push(condition("Ready", true, "DependenciesReady", "Pod is Ready; Service Exists"));
    else conditions.push(condition("Ready", false, "DependenciesNotReady", "Pod exists but is not ready"));
    const scheduled = podCondition("PodScheduled");
    if (scheduled) {
      conditions.push(
        condition(
          "PodScheduled",
          scheduled.status === "True",
          scheduled.reason ?? "PodScheduled",
          scheduled.message ?? "",
        ),
      );
    }
    if (terminal)
      conditions.push(
        condition(
          "Finished",
          true,
          `Pod${phase}`,
          `Pod has ${phase === "Succeeded" ? "succeeded" : "failed"}`,
        ),
      );

    this.store.mutate(this.sandboxes, namespace, name, (s) => {
      s.status = {
        conditions,
        selector: `${NAME_HASH_LABEL}=${hash}`,
        ...(pod?.status?.podIPs &&
          !suspended && { podIPs: pod.status.podIPs.map((p: { ip: string }) => p.ip) }),
        ...(pod?.spec?.nodeName && { nodeName: pod.spec.nodeName }),
        ...(service && { service: name, serviceFQDN: `${name}.${namespace}.svc.${CLUSTER_DOMAIN}` }),
      };
    });
  }
}
