import { describe, expect, it } from "vitest";

import {
  buildBootSecret,
  buildPod,
  buildSandbox,
  buildService,
  instanceSelector,
  objectName,
  POD_NAMESERVER,
  type SessionObjectsInput,
} from "./objects";

const input: SessionObjectsInput = {
  sessionId: "sess_01kfy0d9ak3v8n2y4q6w8e0r2t",
  agentId: "agt_01kfy0d9ak3v8n2y4q6w8e0r2x",
  namespace: "hangar-sandboxes",
  instance: "hangar",
  image: "registry.example/hangar-sandbox:0.1.0",
  argv: [
    "/usr/local/bin/node",
    "/app/lib/sandbox/bootstrap/boot.mjs",
    "~/.hangar/boot.json",
    "~/.hangar/status.jsonl",
  ],
  env: { LANG: "C.UTF-8" },
  homeFiles: { ".hangar/boot.json": Buffer.from('{"env":{"SECRET":"s3cret"}}') },
  ports: [4096],
  memoryMiB: 2048,
  cpuMillis: 1500,
  diskMiB: 8192,
  nproc: 512,
  gatewayAlias: { ip: "10.96.0.20", hostnames: ["hangar-gateway.hangar.svc.cluster.local"] },
  ttlSeconds: 3600,
  now: new Date("2026-11-28T12:00:00Z"),
};

describe("Kubernetes objects for one session", () => {
  it("names objects in DNS-1123 and labels them for selection", () => {
    expect(objectName(input.sessionId)).toBe("hangar-sess-01kfy0d9ak3v8n2y4q6w8e0r2t");
    const sandbox = buildSandbox(input);
    expect(sandbox.metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "hangar",
      "app.kubernetes.io/component": "sandbox",
      "hangar.dev/instance": "hangar",
      "hangar.dev/session-id": input.sessionId,
      "hangar.dev/agent-id": input.agentId,
    });
    // The pod the controller makes carries the same labels (NetworkPolicies select on them).
    expect(sandbox.spec.podTemplate.metadata.labels).toEqual(sandbox.metadata.labels);
    expect(instanceSelector("hangar")).toBe(
      "app.kubernetes.io/managed-by=hangar,app.kubernetes.io/component=sandbox,hangar.dev/instance=hangar",
    );
  });

  it("keeps session secrets out of the pod spec: they travel in the Secret, mounted only by the init container", () => {
    const sandbox = buildSandbox(input);
    const podSpec = sandbox.spec.podTemplate.spec;
    const [init] = podSpec.initContainers;
    const [main] = podSpec.containers;
    expect(JSON.stringify(sandbox)).not.toContain("s3cret");
    const secret = buildBootSecret(input);
    expect(Buffer.from(secret.data["dot-hangar__boot.json"] ?? "", "base64").toString()).toContain("s3cret");
    expect(init?.volumeMounts.map((m) => m.name)).toContain("boot");
    expect(main?.volumeMounts.map((m) => m.name)).not.toContain("boot");
    expect(podSpec.volumes[0]).toMatchObject({
      secret: { secretName: "hangar-sess-01kfy0d9ak3v8n2y4q6w8e0r2t-boot", defaultMode: 0o400 },
    });
    expect(init?.command[2]).toContain(
      "cat '/run/hangar/boot/.hangar/boot.json' > '/home/agent/.hangar/boot.json'",
    );
  });

  it("can place a file in the memory-backed private folder instead of home (never the node's disk)", () => {
    const spec = buildPod({
      ...input,
      homeFiles: { "/run/hangar/private/boot.json": Buffer.from('{"env":{"SECRET":"s3cret"}}') },
    }).spec;
    const [init] = spec.initContainers;
    expect(init?.volumeMounts).toContainEqual({ name: "private", mountPath: "/run/hangar/private" });
    expect(init?.command[2]).toContain(
      "cat '/run/hangar/boot/run/hangar/private/boot.json' > '/run/hangar/private/boot.json'",
    );
    expect(spec.volumes[0]).toMatchObject({
      secret: { items: [{ key: "run__hangar__private__boot.json", path: "run/hangar/private/boot.json" }] },
    });
  });

  it("runs confined: non-root, no privilege escalation, no capabilities, no service-account token", () => {
    const spec = buildPod(input).spec;
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    for (const c of [...spec.initContainers, ...spec.containers]) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
    }
    expect(spec.enableServiceLinks).toBe(false);
    for (const c of [...spec.initContainers, ...spec.containers]) {
      expect(c.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
    }
  });

  it("bounds the pod: cpu, memory and disk limited and requested, every emptyDir sized, processes capped", () => {
    const spec = buildPod(input).spec;
    const [main] = spec.containers;
    expect(main?.resources).toEqual({
      requests: { cpu: "250m", memory: "2048Mi", "ephemeral-storage": "1024Mi" },
      limits: { cpu: "1500m", memory: "2048Mi", "ephemeral-storage": "8192Mi" },
    });
    for (const c of spec.initContainers) expect(Object.keys(c.resources.limits).sort()).toHaveLength(3);
    for (const volume of spec.volumes) {
      if ("emptyDir" in volume) expect(volume.emptyDir?.sizeLimit).toMatch(/^\d+Mi$/);
    }
    // The private folder is memory (tmpfs), never the node's disk.
    expect(spec.volumes).toContainEqual({
      name: "private",
      emptyDir: { medium: "Memory", sizeLimit: "16Mi" },
    });
    expect(main?.volumeMounts).toContainEqual({ name: "private", mountPath: "/run/hangar/private" });
    // RLIMIT_NPROC, soft and hard, before the bootstrap; HANGAR_NPROC lets each exec set it again.
    expect(main?.command).toEqual(["/usr/bin/prlimit", "--nproc=512:512", "--", ...input.argv]);
    expect(main?.env).toContainEqual({ name: "HANGAR_NPROC", value: "512" });
    expect(spec).not.toHaveProperty("hostUsers");
    expect(buildPod({ ...input, userNamespaces: true }).spec.hostUsers).toBe(false);
  });

  it("gives the pod no DNS server: only its own loopback, and the gateway's name in /etc/hosts", () => {
    const spec = buildSandbox(input).spec.podTemplate.spec;
    expect(spec.dnsPolicy).toBe("None");
    expect(spec.dnsConfig).toEqual({ nameservers: [POD_NAMESERVER] });
    expect(POD_NAMESERVER).toBe("127.0.0.1");
    expect(spec.hostAliases).toEqual([
      { ip: "10.96.0.20", hostnames: ["hangar-gateway.hangar.svc.cluster.local"] },
    ]);
    // A gateway given as an IP needs no alias.
    const byIp = buildPod({ ...input, gatewayAlias: undefined }).spec;
    expect(byIp).not.toHaveProperty("hostAliases");
    expect(byIp.dnsPolicy).toBe("None");
  });

  it("without bounds configured, carries none (memory alone as before)", () => {
    const bare = { ...input, cpuMillis: undefined, diskMiB: undefined, nproc: undefined };
    const [main] = buildPod(bare).spec.containers;
    expect(main?.resources).toEqual({ requests: { memory: "2048Mi" }, limits: { memory: "2048Mi" } });
    expect(main?.command).toEqual(input.argv);
  });

  it("sets a renewable TTL safety net on a Sandbox; a bare Pod gets no deadline it could not extend", () => {
    expect(buildSandbox(input).spec).toMatchObject({
      shutdownTime: "2026-11-28T13:00:00Z",
      shutdownPolicy: "Delete",
    });
    expect(buildPod(input).spec).not.toHaveProperty("activeDeadlineSeconds");
  });

  it("gives the fallback pod a headless Service owned by it", () => {
    const service = buildService(input, { apiVersion: "v1", kind: "Pod", name: "hangar-sess-x", uid: "u-1" });
    expect(service.spec.clusterIP).toBe("None");
    expect(service.metadata.ownerReferences).toEqual([
      {
        apiVersion: "v1",
        kind: "Pod",
        name: "hangar-sess-x",
        uid: "u-1",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });
});
