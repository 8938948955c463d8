import fs from "node:fs";
import path from "node:path";

import type { PodRun } from "./pod-run";
import { typeOfKind } from "./resources";
import type { KubeObject } from "./selectors";
import type { Store } from "./store";

/*
 * A pod's volumes on this host: emptyDir is a host folder per pod and volume (under /dev/shm for
 * `medium: Memory`, as a tmpfs would be; sizeLimit is not enforced), secret and configMap volumes are
 * their data written to files (secret mode from defaultMode, 0644 by default), and as the kubelet does,
 * `dnsPolicy: None` gives the pod an /etc/resolv.conf from its dnsConfig, and hostAliases an /etc/hosts
 * with those entries. Each becomes a bind mount of the pod's sandbox.
 */

/** Folders for the pod's volumes and the binds that show them at each volumeMount. */
export function prepareVolumes(store: Store, run: PodRun, pod: KubeObject) {
  const dirs = new Map<string, string>();
  for (const volume of pod.spec.volumes ?? []) {
    const dir = path.join(volume.emptyDir?.medium === "Memory" ? run.memoryDir : run.volumesDir, volume.name);
    fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
    fs.chmodSync(dir, 0o777);
    const source = volume.secret ?? volume.configMap;
    if (source) {
      const isSecret = Boolean(volume.secret);
      const type = typeOfKind(isSecret ? "Secret" : "ConfigMap")!;
      const name = isSecret ? source.secretName : source.name;
      const obj = store.find(type, run.namespace, name);
      if (!obj) {
        if (source.optional) continue;
        throw new Error(
          `MountVolume.SetUp failed for volume "${volume.name}" : ${type.singular} "${name}" not found`,
        );
      }
      const data: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) {
        data[k] = isSecret ? Buffer.from(v, "base64") : Buffer.from(v);
      }
      for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>))
        data[k] = Buffer.from(v, "base64");
      const items: { key: string; path: string; mode?: number }[] =
        source.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) {
        const file = path.join(dir, item.path);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, data[item.key] ?? Buffer.alloc(0));
        fs.chmodSync(file, item.mode ?? source.defaultMode ?? 0o644);
      }
    } else if (!volume.emptyDir) {
      throw new Error(
        `volume "${volume.name}": the stand-in kubelet supports emptyDir, secret and configMap only`,
      );
    }
    dirs.set(volume.name, dir);
  }
  const binds: { source: string; target: string; readOnly?: boolean }[] = [];
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const m of c.volumeMounts ?? []) {
      const dir = dirs.get(m.name);
      if (!dir) throw new Error(`container ${c.name}: volumeMount "${m.name}" names no volume`);
      if (binds.some((b) => b.target === m.mountPath)) continue;
      const source = m.subPath ? path.join(dir, m.subPath) : dir;
      if (m.subPath && !fs.existsSync(source)) fs.mkdirSync(source, { recursive: true });
      const isData = pod.spec.volumes.find((v: any) => v.name === m.name)?.emptyDir === undefined;
      binds.push({ source, target: m.mountPath, readOnly: Boolean(m.readOnly) || isData });
    }
  }
  return [...binds, ...nameFiles(run, pod)];
}

/** The pod's /etc/resolv.conf (dnsPolicy None) and /etc/hosts (hostAliases), as the kubelet writes them. */
function nameFiles(run: PodRun, pod: KubeObject) {
  const files: { source: string; target: string; readOnly: boolean }[] = [];
  const write = (name: string, text: string, target: string) => {
    const source = path.join(run.volumesDir, `.${name}`);
    fs.mkdirSync(run.volumesDir, { recursive: true });
    fs.writeFileSync(source, text, { mode: 0o644 });
    files.push({ source, target, readOnly: true });
  };
  if (pod.spec.dnsPolicy === "None") {
    const dns = pod.spec.dnsConfig ?? {};
    const lines = [
      ...(dns.nameservers ?? []).map((ip: string) => `nameserver ${ip}`),
      ...(dns.searches?.length ? [`search ${dns.searches.join(" ")}`] : []),
      ...(dns.options?.length
        ? [`options ${dns.options.map((o: any) => (o.value ? `${o.name}:${o.value}` : o.name)).join(" ")}`]
        : []),
    ];
    write("resolv.conf", lines.join("\n") + "\n", "/etc/resolv.conf");
  }
  if (pod.spec.hostAliases?.length) {
    const lines = [
      "# Kubernetes-managed hosts file (stand-in).",
      "127.0.0.1\tlocalhost",
      "::1\tlocalhost ip6-localhost ip6-loopback",
      "# Entries added by HostAliases.",
      ...pod.spec.hostAliases.map((a: any) => `${a.ip}\t${(a.hostnames ?? []).join("\t")}`),
    ];
    write("hosts", lines.join("\n") + "\n", "/etc/hosts");
  }
  return files;
}
