import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";

import { JSON_PATCH, jsonPatch, MERGE_PATCH, mergePatch, STRATEGIC_MERGE_PATCH } from "./patch";
import { apiVersionOf, RESOURCE_TYPES, typeOfKind, type ResourceType } from "./resources";
import type { KubeObject, Matcher } from "./selectors";
import { errors, StatusError } from "./status";

/*
 * The object store: what etcd plus the API server's registry do for the few types we serve. One global
 * resourceVersion counter (a string on the wire), an event history for watches (compactable, so a watch
 * from an old version gets 410 Gone), owner-reference garbage collection and graceful pod deletion.
 */

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";
export type StoreEvent = { type: WatchEventType; object: KubeObject; rv: number; resource: ResourceType };
export type DeleteOptions = {
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  gracePeriodSeconds?: number;
};

const FOREGROUND = "foregroundDeletion";
const ORPHAN = "orphan";
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const clone = <T>(v: T): T => structuredClone(v);
const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ""}/${name}`;
const specOf = (obj: KubeObject) => {
  const { metadata: _m, status: _s, ...rest } = obj;
  return JSON.stringify(rest);
};

export class Store extends EventEmitter<{ event: [StoreEvent] }> {
  private rv = 0;
  private compactedBelow = 0;
  private readonly tables = new Map<ResourceType, Map<string, KubeObject>>();
  private readonly history: StoreEvent[] = [];
  private gcScheduled = false;
  private readonly outbox: StoreEvent[] = [];
  private delivering = false;
  /** Pods whose processes the kubelet has stopped: nothing but finalizers holds them any more. */
  private readonly released = new Set<string>();
  private ipCounter = 0;
  /**
   * Set by the kubelet: pods on a node are only marked for deletion, and the kubelet removes them once
   * their processes are gone. Without a kubelet they vanish at once (as unscheduled pods do).
   */
  gracefulPods = false;

  constructor(namespaces: string[]) {
    super();
    this.setMaxListeners(0);
    for (const type of RESOURCE_TYPES) this.tables.set(type, new Map());
    const ns = RESOURCE_TYPES.find((t) => t.plural === "namespaces")!;
    for (const name of namespaces) this.create(ns, undefined, { metadata: { name } });
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** Makes every version up to now too old to watch from, as etcd compaction does. */
  compact() {
    this.compactedBelow = this.rv + 1;
    this.history.length = 0;
  }

  /** Events after `rv` for a type, or a 410 when they have been compacted away. */
  eventsSince(type: ResourceType, rv: number): StoreEvent[] {
    if (rv + 1 < this.compactedBelow) {
      throw errors.expired(`too old resource version: ${rv} (${this.compactedBelow - 1})`);
    }
    return this.history.filter((e) => e.resource === type && e.rv > rv);
  }

  table(type: ResourceType): Map<string, KubeObject> {
    return this.tables.get(type)!;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.table(type).get(keyOf(namespace, name));
    if (!obj) throw errors.notFound(type, name);
    return clone(obj);
  }

  find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.table(type).get(keyOf(namespace, name));
    return obj && clone(obj);
  }

  list(type: ResourceType, namespace: string | undefined, ...matchers: Matcher[]): KubeObject[] {
    return [...this.table(type).values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .filter((o) => matchers.every((m) => m(o)))
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))
      .map(clone);
  }

  create(type: ResourceType, namespace: string | undefined, body: KubeObject): KubeObject {
    const obj = clone(body ?? { metadata: {} });
    obj.metadata ??= {};
    if (!obj.metadata.name && obj.metadata.generateName) {
      obj.metadata.name = obj.metadata.generateName + randomUUID().replaceAll("-", "").slice(0, 5);
    }
    const name = obj.metadata.name ?? "";
    if (!name) {
      throw errors.invalid(type, "", [
        {
          field: "metadata.name",
          reason: "FieldValueRequired",
          message: "Required value: name or generateName is required",
        },
      ]);
    }
    if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
      throw errors.invalid(type, name, [
        {
          field: "metadata.name",
          reason: "FieldValueInvalid",
          message:
            `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case ` +
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        },
      ]);
    }
    if (type.namespaced) {
      if (!namespace) throw errors.badRequest("a namespace is required");
      const nsType = typeOfKind("Namespace")!;
      if (!this.table(nsType).has(keyOf(undefined, namespace))) throw errors.notFound(nsType, namespace);
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw errors.badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      obj.metadata.namespace = namespace;
    } else delete obj.metadata.namespace;
    if (type.kind === "Pod" && !(obj.spec?.containers?.length > 0)) {
      throw errors.invalid(type, name, [
        { field: "spec.containers", reason: "FieldValueRequired", message: "Required value" },
      ]);
    }
    const table = this.table(type);
    if (table.has(keyOf(namespace, name))) throw errors.alreadyExists(type, name);
    obj.apiVersion = apiVersionOf(type);
    obj.kind = type.kind;
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = now();
    obj.metadata.generation = 1;
    delete obj.metadata.deletionTimestamp;
    this.applyDefaults(type, obj);
    return this.commit(type, "ADDED", obj);
  }

  /** PUT. `subresource: "status"` changes only status; other writes keep a status subresource's status. */
  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: KubeObject,
    subresource?: "status",
  ): KubeObject {
    const old = this.get(type, namespace, name);
    if (body?.metadata?.name !== undefined && body.metadata.name !== name) {
      throw errors.badRequest(
        `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const wanted = body?.metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== "" && wanted !== old.metadata.resourceVersion) {
      throw errors.conflict(type, name);
    }
    return this.replace(type, old, body, subresource);
  }

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    patch: unknown,
    subresource?: "status",
  ): KubeObject {
    const old = this.get(type, namespace, name);
    let next: unknown;
    if (contentType === MERGE_PATCH || contentType === STRATEGIC_MERGE_PATCH) next = mergePatch(old, patch);
    else if (contentType === JSON_PATCH) next = jsonPatch(old, patch);
    else throw errors.unsupportedMediaType(contentType);
    const obj = next as KubeObject;
    const wanted = obj?.metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== old.metadata.resourceVersion) throw errors.conflict(type, name);
    return this.replace(type, old, obj, subresource);
  }

  /** Used by the kubelet and the controller: read, change, write, with no conflict checks. */
  mutate(type: ResourceType, namespace: string | undefined, name: string, change: (obj: KubeObject) => void) {
    const obj = this.find(type, namespace, name);
    if (!obj) return undefined;
    const before = JSON.stringify(obj);
    change(obj);
    if (JSON.stringify(obj) === before) return obj;
    return this.commit(type, "MODIFIED", obj);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}) {
    const obj = this.get(type, namespace, name);
    const policy = options.propagationPolicy ?? "Background";
    if (obj.metadata.deletionTimestamp) return obj;
    obj.metadata.deletionTimestamp = now();
    if (policy === "Foreground") obj.metadata.finalizers = [...(obj.metadata.finalizers ?? []), FOREGROUND];
    if (policy === "Orphan") obj.metadata.finalizers = [...(obj.metadata.finalizers ?? []), ORPHAN];
    const graceful = this.awaitsKubelet(type, obj);
    if (graceful) {
      obj.metadata.deletionGracePeriodSeconds =
        options.gracePeriodSeconds ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
    }
    if (graceful || (obj.metadata.finalizers ?? []).length > 0) {
      const marked = this.commit(type, "MODIFIED", obj);
      this.scheduleGc();
      return marked;
    }
    return this.remove(type, obj);
  }

  /** Removes an object marked for deletion once nothing holds it (the kubelet calls this for pods). */
  finalize(type: ResourceType, namespace: string | undefined, name: string) {
    const obj = this.find(type, namespace, name);
    if (!obj?.metadata.deletionTimestamp) return;
    this.released.add(obj.metadata.uid!);
    if ((obj.metadata.finalizers ?? []).length === 0) this.remove(type, obj);
  }

  /** Creates a core/v1 Event about an object, as the kubelet and controllers do. */
  recordEvent(
    involved: KubeObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    source: string,
  ) {
    const events = typeOfKind("Event")!;
    const time = now();
    try {
      this.create(events, involved.metadata.namespace ?? "default", {
        metadata: { name: `${involved.metadata.name}.${randomUUID().slice(0, 8)}` },
        involvedObject: {
          apiVersion: involved.apiVersion,
          kind: involved.kind,
          name: involved.metadata.name,
          namespace: involved.metadata.namespace,
          uid: involved.metadata.uid,
        },
        type,
        reason,
        message,
        source: { component: source },
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      });
    } catch {
      // The namespace is going away.
    }
  }

  // -------------------------------------------------------------------------------------------------

  private replace(type: ResourceType, old: KubeObject, body: KubeObject, subresource?: "status"): KubeObject {
    let next: KubeObject;
    if (subresource === "status") {
      next = { ...clone(old), status: clone(body?.status) };
    } else {
      next = clone(body);
      next.metadata = { ...clone(body.metadata ?? {}) };
      if (type.hasStatus) next.status = clone(old.status);
    }
    for (const key of [
      "uid",
      "creationTimestamp",
      "namespace",
      "name",
      "deletionTimestamp",
      "generation",
    ] as const) {
      if (old.metadata[key] === undefined) delete next.metadata[key];
      else (next.metadata as Record<string, unknown>)[key] = old.metadata[key];
    }
    if (old.metadata.deletionGracePeriodSeconds !== undefined) {
      next.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
    }
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    if (subresource !== "status" && specOf(next) !== specOf(old))
      next.metadata.generation = (old.metadata.generation ?? 0) + 1;
    if (
      JSON.stringify({ ...next, metadata: { ...next.metadata, resourceVersion: "" } }) ===
      JSON.stringify({ ...old, metadata: { ...old.metadata, resourceVersion: "" } })
    ) {
      return old; // A no-op write keeps the resourceVersion and sends no event, as the real server does.
    }
    if (
      next.metadata.deletionTimestamp &&
      (next.metadata.finalizers ?? []).length === 0 &&
      !this.awaitsKubelet(type, next)
    ) {
      return this.remove(type, next);
    }
    const saved = this.commit(type, "MODIFIED", next);
    this.scheduleGc();
    return saved;
  }

  private awaitsKubelet(type: ResourceType, obj: KubeObject) {
    return (
      type.kind === "Pod" &&
      this.gracefulPods &&
      Boolean(obj.spec?.nodeName) &&
      !this.released.has(obj.metadata.uid!)
    );
  }

  private applyDefaults(type: ResourceType, obj: KubeObject) {
    if (type.kind === "Pod") {
      obj.spec.restartPolicy ??= "Always";
      obj.spec.terminationGracePeriodSeconds ??= 30;
      obj.spec.dnsPolicy ??= "ClusterFirst";
      obj.spec.schedulerName ??= "default-scheduler";
      for (const c of [...(obj.spec.initContainers ?? []), ...obj.spec.containers]) {
        c.terminationMessagePath ??= "/dev/termination-log";
        c.terminationMessagePolicy ??= "File";
        c.imagePullPolicy ??=
          String(c.image ?? "").endsWith(":latest") || !String(c.image ?? "").includes(":")
            ? "Always"
            : "IfNotPresent";
      }
      obj.status = { phase: "Pending", qosClass: "BestEffort" };
    } else if (type.kind === "Service") {
      obj.spec ??= {};
      obj.spec.type ??= "ClusterIP";
      if (obj.spec.clusterIP !== "None") obj.spec.clusterIP ??= this.nextIp("10.96");
      obj.spec.clusterIPs ??= [obj.spec.clusterIP];
      obj.spec.sessionAffinity ??= "None";
      for (const p of obj.spec.ports ?? []) {
        p.protocol ??= "TCP";
        p.targetPort ??= p.port;
      }
      obj.status = { loadBalancer: {} };
    } else if (type.kind === "Namespace") {
      obj.spec = { finalizers: ["kubernetes"] };
      obj.status = { phase: "Active" };
      obj.metadata.labels = { ...obj.metadata.labels, "kubernetes.io/metadata.name": obj.metadata.name! };
    } else if (type.kind === "Secret") {
      obj.type ??= "Opaque";
      if (obj.stringData) {
        // Write-only convenience field: merged into data (base64), never stored.
        const data = { ...(obj.data as Record<string, string> | undefined) };
        for (const [k, v] of Object.entries(obj.stringData as Record<string, string>)) {
          data[k] = Buffer.from(v).toString("base64");
        }
        obj.data = data;
        delete obj.stringData;
      }
    } else if (type.hasStatus) {
      delete obj.status;
    }
  }

  /** A fake address, 10.x: never routable, only reported. */
  nextIp(prefix: string): string {
    this.ipCounter++;
    return `${prefix}.${Math.floor(this.ipCounter / 250) % 250}.${(this.ipCounter % 250) + 2}`;
  }

  private commit(type: ResourceType, eventType: WatchEventType, obj: KubeObject): KubeObject {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    this.table(type).set(keyOf(obj.metadata.namespace, obj.metadata.name!), clone(obj));
    this.publish({ type: eventType, object: clone(obj), rv: this.rv, resource: type });
    if (obj.metadata.deletionTimestamp || obj.metadata.ownerReferences) this.scheduleGc();
    return clone(obj);
  }

  private remove(type: ResourceType, obj: KubeObject): KubeObject {
    if (!this.table(type).delete(keyOf(obj.metadata.namespace, obj.metadata.name!))) return obj;
    this.rv++;
    const gone = clone(obj);
    gone.metadata.resourceVersion = String(this.rv);
    this.publish({ type: "DELETED", object: clone(gone), rv: this.rv, resource: type });
    this.scheduleGc();
    return gone;
  }

  /**
   * Listeners that write while handling an event (the kubelet does) must not make later listeners see
   * the newer event first: events are delivered one at a time, in resourceVersion order.
   */
  private publish(event: StoreEvent) {
    this.history.push(event);
    this.outbox.push(event);
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let next = this.outbox.shift(); next; next = this.outbox.shift()) this.emit("event", next);
    } finally {
      this.delivering = false;
    }
  }

  private scheduleGc() {
    if (this.gcScheduled) return;
    this.gcScheduled = true;
    setImmediate(() => {
      this.gcScheduled = false;
      this.collectGarbage();
    });
  }

  /*
   * The garbage collector, in one pass: dependents whose owners are all gone (or being deleted in the
   * foreground) are deleted; dependents of an orphaning owner lose that owner reference; an owner in
   * foreground deletion goes once no dependent blocks it.
   */
  private collectGarbage() {
    const all = [...this.tables].flatMap(([type, table]) =>
      [...table.values()].map((obj) => ({ type, obj })),
    );
    const byUid = new Map(all.map((e) => [e.obj.metadata.uid!, e]));
    for (const { type, obj } of all) {
      const refs = obj.metadata.ownerReferences ?? [];
      if (refs.length === 0) continue;
      const orphaning = refs.filter((r) => byUid.get(r.uid)?.obj.metadata.finalizers?.includes(ORPHAN));
      if (orphaning.length > 0) {
        this.mutate(type, obj.metadata.namespace, obj.metadata.name!, (o) => {
          o.metadata.ownerReferences = refs.filter((r) => !orphaning.includes(r));
          if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
        });
        continue;
      }
      const ownersGone = refs.every((r) => {
        const owner = byUid.get(r.uid)?.obj;
        return !owner || owner.metadata.finalizers?.includes(FOREGROUND);
      });
      if (ownersGone && !obj.metadata.deletionTimestamp) {
        const foreground = refs.some((r) => byUid.get(r.uid));
        try {
          this.delete(type, obj.metadata.namespace, obj.metadata.name!, {
            propagationPolicy: foreground ? "Foreground" : "Background",
          });
        } catch (err) {
          if (!(err instanceof StatusError)) throw err;
        }
      }
    }
    for (const { type, obj } of all) {
      const finalizers = obj.metadata.finalizers ?? [];
      if (!obj.metadata.deletionTimestamp) continue;
      const uid = obj.metadata.uid!;
      const release = (finalizer: string) =>
        this.mutate(type, obj.metadata.namespace, obj.metadata.name!, (o) => {
          o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== finalizer);
        });
      const dependents = (blockingOnly: boolean) =>
        [...this.tables.values()].some((table) =>
          [...table.values()].some((o) =>
            o.metadata.ownerReferences?.some((r) => r.uid === uid && (!blockingOnly || r.blockOwnerDeletion)),
          ),
        );
      if (finalizers.includes(ORPHAN) && !dependents(false)) release(ORPHAN);
      if (finalizers.includes(FOREGROUND) && !dependents(true)) release(FOREGROUND);
      const current = this.find(type, obj.metadata.namespace, obj.metadata.name!);
      if (current && (current.metadata.finalizers ?? []).length === 0 && !this.awaitsKubelet(type, current)) {
        this.remove(type, current);
      }
    }
  }
}
