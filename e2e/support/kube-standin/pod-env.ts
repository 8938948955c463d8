import { NODE_NAME, type PodRun } from "./pod-run";
import { typeOfKind } from "./resources";
import type { Store } from "./store";

/*
 * A container's environment as the kubelet makes it: HOSTNAME, then envFrom (Secrets, ConfigMaps,
 * with their prefix), then env (values, secretKeyRef, configMapKeyRef, the downward API's fieldRef).
 */

/** The container's variables; throws, as CreateContainerConfigError, for a missing non-optional source. */
export function resolveEnv(store: Store, run: PodRun, spec: any): Record<string, string> {
  const env: Record<string, string> = { HOSTNAME: run.name };
  const lookup = (kind: "Secret" | "ConfigMap", name: string, key: string | undefined, optional: boolean) => {
    const obj = store.find(typeOfKind(kind)!, run.namespace, name);
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
