import fs from "node:fs";
import path from "node:path";

import yaml from "js-yaml";
import { describe, expect, it } from "vitest";

import { loadConfig } from "@/lib/config";
import {
  buildBootSecret,
  buildPod,
  buildSandbox,
  buildService,
  type SessionObjectsInput,
} from "@/lib/sandbox/drivers/kubernetes/objects";

import { loadYamlDocuments, validateKubernetesObject } from "../support/kubernetes/validate";

type Doc = Record<string, any>;

const DEPLOY = path.join(process.cwd(), "deploy");
const SANDBOX_NS = "hangar-sandboxes";
const HANGAR_NS = "hangar";

function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(entry.name) ? [path.relative(DEPLOY, full)] : [];
  });
}

function docs(file: string): Doc[] {
  return loadYamlDocuments(fs.readFileSync(path.join(DEPLOY, file), "utf8")) as Doc[];
}

const manifestFiles = yamlFiles(DEPLOY).filter((f) => f !== "kustomization.yaml");
const kustomization = yaml.load(fs.readFileSync(path.join(DEPLOY, "kustomization.yaml"), "utf8")) as Doc;
const applied: Doc[] = (kustomization.resources as string[]).flatMap(docs);

function find(kind: string, name: string): Doc {
  const doc = applied.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`${kind} ${name} is not in the kustomization`);
  return doc;
}

/** Every document of every manifest in deploy/, the optional ones (cilium/) included. */
const everyDoc: Doc[] = manifestFiles.flatMap(docs);

const CILIUM_PEERS = {
  egress: ["toEndpoints", "toEntities", "toFQDNs", "toCIDR", "toCIDRSet", "toServices"],
  ingress: ["fromEndpoints", "fromEntities", "fromCIDR", "fromCIDRSet"],
};

/**
 * The rules of a policy that name no peer: a NetworkPolicy rule without `to`/`from` (or with an empty
 * list) matches every address, a CiliumNetworkPolicy rule without a to/from selector likewise.
 */
function rulesWithoutPeers(policy: Doc): string[] {
  const where = `${policy.kind} ${policy.metadata.namespace}/${policy.metadata.name}`;
  const spec = policy.spec ?? {};
  const missing: string[] = [];
  for (const direction of ["egress", "ingress"] as const) {
    ((spec[direction] ?? []) as Doc[]).forEach((rule, i) => {
      const named =
        policy.kind === "NetworkPolicy"
          ? ((direction === "egress" ? rule.to : rule.from) ?? []).length > 0
          : CILIUM_PEERS[direction].some((field) => (rule[field] ?? []).length > 0);
      if (!named) missing.push(`${where} ${direction}[${i}]`);
    });
  }
  return missing;
}

/** Ports a policy's egress rules open, as "53", "3128", or "any" for a rule with no port list. */
function egressPorts(policy: Doc): string[] {
  return ((policy.spec.egress ?? []) as Doc[]).flatMap((rule) => {
    const ports = (rule.ports ?? rule.toPorts?.flatMap((p: Doc) => p.ports ?? []) ?? []) as Doc[];
    if (ports.length === 0) return ["any"];
    return ports.map((p) => (p.endPort ? `${p.port}-${p.endPort}` : String(p.port)));
  });
}

const POLICY_KINDS = new Set(["NetworkPolicy", "CiliumNetworkPolicy"]);
const policies = everyDoc.filter((d) => POLICY_KINDS.has(d.kind));

type EnvEntry = { name: string; value?: string; valueFrom?: Doc };

function container(deployment: string): Doc {
  return find("Deployment", deployment).spec.template.spec.containers[0];
}

function secretKeys(c: Doc): string[] {
  return ((c.env ?? []) as EnvEntry[])
    .filter((e) => e.valueFrom?.secretKeyRef)
    .map((e) => e.valueFrom!.secretKeyRef.key as string);
}

/** Kubernetes quantities as numbers: cores for cpu ("250m", "2"), bytes otherwise ("4Gi", "512Mi"). */
function quantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti)?$/.exec(text);
  if (!match) throw new Error(`not a quantity: ${text}`);
  const factor = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[match[2] ?? ""] ?? 1;
  return Number(match[1]) * factor;
}

describe("deploy/ manifests", () => {
  it.each(manifestFiles)("%s: every document validates", (file) => {
    const all = docs(file);
    expect(all.length).toBeGreaterThan(0);
    expect(all.flatMap(validateKubernetesObject)).toEqual([]);
  });

  it("the kustomization lists exactly the top-level manifests, minus the Secret example", () => {
    const topLevel = manifestFiles.filter((f) => !f.includes(path.sep) && f !== "secret.example.yaml");
    expect([...(kustomization.resources as string[])].sort()).toEqual(topLevel.sort());
    expect(kustomization.resources).not.toContain("secret.example.yaml");
  });

  it("grants nothing cluster-wide: the sandbox Role, and reading the gateway's Service in Hangar's namespace", () => {
    expect(applied.filter((d) => /^Cluster/.test(d.kind))).toEqual([]);
    const roles = applied.filter((d) => d.kind === "Role");
    const bindings = applied.filter((d) => d.kind === "RoleBinding");
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual([HANGAR_NS, SANDBOX_NS]);
    for (const binding of bindings) {
      const role = roles.find((r) => r.metadata.name === binding.roleRef.name);
      expect(role?.metadata.namespace).toBe(binding.metadata.namespace);
      expect(binding.roleRef).toMatchObject({ kind: "Role" });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "hangar-web", namespace: "hangar" }]);
    }
    // In Hangar's own namespace (where its Secret lives): one named Service, read only.
    expect(find("Role", "hangar-gateway-address").rules).toEqual([
      { apiGroups: [""], resources: ["services"], resourceNames: ["hangar-gateway"], verbs: ["get"] },
    ]);
  });

  it("the Role names no cluster-scoped resource and no wildcard", () => {
    const clusterScoped = [
      "nodes",
      "namespaces",
      "persistentvolumes",
      "clusterroles",
      "clusterrolebindings",
      "customresourcedefinitions",
      "storageclasses",
      "runtimeclasses",
      "priorityclasses",
      "validatingwebhookconfigurations",
      "mutatingwebhookconfigurations",
      "certificatesigningrequests",
    ];
    for (const rule of find("Role", "hangar-sandbox-manager").rules as Doc[]) {
      for (const field of ["apiGroups", "resources", "verbs"]) expect(rule[field]).not.toContain("*");
      for (const resource of rule.resources as string[]) {
        expect(clusterScoped).not.toContain(resource.split("/")[0]);
      }
      expect(rule.nonResourceURLs).toBeUndefined();
    }
  });

  it("exec, attach and port-forward allow both GET (WebSocket) and POST", () => {
    const rule = (find("Role", "hangar-sandbox-manager").rules as Doc[]).find((r) =>
      r.resources.includes("pods/exec"),
    );
    expect(rule?.resources).toEqual(expect.arrayContaining(["pods/exec", "pods/attach", "pods/portforward"]));
    expect(rule?.verbs).toEqual(expect.arrayContaining(["get", "create"]));
  });

  it("runs several web replicas on the kubernetes driver", () => {
    const web = find("Deployment", "hangar-web");
    expect(web.spec.replicas).toBeGreaterThanOrEqual(2);
    const env = web.spec.template.spec.containers[0].env as { name: string; value: string }[];
    expect(env).toContainEqual({ name: "HANGAR_SANDBOX_DRIVER", value: "kubernetes" });
  });

  it("lets sandbox pods out only to the gateway pods (3128, 4000): no DNS", () => {
    const sandbox = applied.filter((d) => d.kind === "NetworkPolicy" && d.metadata.namespace === SANDBOX_NS);
    const ports = sandbox.flatMap(egressPorts);
    expect(new Set(ports)).toEqual(new Set(["3128", "4000"]));
    for (const rule of sandbox.flatMap((p) => (p.spec.egress ?? []) as Doc[])) {
      expect(rule.to).toEqual([
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": HANGAR_NS } },
          podSelector: {
            matchLabels: { "app.kubernetes.io/name": "hangar", "app.kubernetes.io/component": "gateway" },
          },
        },
      ]);
    }
    expect(sandbox.flatMap((p) => p.spec.ingress ?? [])).toEqual([]);
  });

  it("no policy anywhere in deploy/ opens port 53, or any port, from the sandbox namespace", () => {
    const fromSandboxes = policies.filter((p) => p.metadata.namespace === SANDBOX_NS);
    expect(fromSandboxes.length).toBeGreaterThan(0);
    const opened = fromSandboxes.flatMap(egressPorts);
    for (const port of ["53", "dns", "dns-tcp", "any"]) expect(opened).not.toContain(port);
    expect(opened.filter((p) => p.includes("-"))).toEqual([]); // no port ranges
  });

  it("every NetworkPolicy rule in deploy/ names its peers (`to` / `from`): none means any address", () => {
    expect(policies.length).toBeGreaterThanOrEqual(8);
    expect(policies.flatMap(rulesWithoutPeers)).toEqual([]);
  });

  it("the peer check catches a rule without destination (the old gateway 5432 rule)", () => {
    const old = {
      kind: "NetworkPolicy",
      metadata: { name: "gateway-egress", namespace: HANGAR_NS },
      spec: { egress: [{ ports: [{ protocol: "TCP", port: 5432 }] }], ingress: [{ from: [] }] },
    };
    expect(rulesWithoutPeers(old)).toEqual([
      "NetworkPolicy hangar/gateway-egress egress[0]",
      "NetworkPolicy hangar/gateway-egress ingress[0]",
    ]);
    const cilium = {
      kind: "CiliumNetworkPolicy",
      metadata: { name: "c", namespace: HANGAR_NS },
      spec: { egress: [{ toPorts: [{ ports: [{ port: "5432" }] }] }] },
    };
    expect(rulesWithoutPeers(cilium)).toEqual(["CiliumNetworkPolicy hangar/c egress[0]"]);
  });

  it("the gateway reaches PostgreSQL only at the operator's address, and DNS only at kube-dns", () => {
    const database = find("NetworkPolicy", "gateway-egress-database").spec.egress as Doc[];
    expect(database).toHaveLength(1);
    expect(database[0]!.ports).toEqual([{ protocol: "TCP", port: 5432 }]);
    // A placeholder from the documentation range until the operator sets it: closed, not open.
    expect(database[0]!.to).toEqual([{ ipBlock: { cidr: "192.0.2.10/32" } }]);
    const dnsRules = (find("NetworkPolicy", "gateway-egress").spec.egress as Doc[]).filter((rule) =>
      egressPorts({ spec: { egress: [rule] } }).includes("53"),
    );
    expect(dnsRules.map((r) => r.to)).toEqual([
      [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
          podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
        },
      ],
    ]);
  });

  it("the gateway takes only the Secret keys it uses: no envFrom of the Secret, no MASTER_KEY", () => {
    const gateway = container("hangar-gateway");
    expect((gateway.envFrom as Doc[]).filter((from) => from.secretRef)).toEqual([]);
    expect(secretKeys(gateway).sort()).toEqual([
      "DATABASE_URL",
      "HANGAR_ENCRYPTION_KEY",
      "LITELLM_API_BASE",
      "LITELLM_API_KEY",
    ]);
    expect((gateway.env as EnvEntry[]).map((e) => e.name)).not.toContain("MASTER_KEY");
    expect(JSON.stringify(find("Deployment", "hangar-gateway"))).not.toContain("MASTER_KEY");
  });

  it("the web pods name their Secret keys too, and every key named exists in the example Secret", () => {
    const web = container("hangar-web");
    expect((web.envFrom as Doc[]).filter((from) => from.secretRef)).toEqual([]);
    expect(secretKeys(web).sort()).toEqual([
      "DATABASE_URL",
      "HANGAR_ENCRYPTION_KEY",
      "LITELLM_API_BASE",
      "LITELLM_API_KEY",
      "MASTER_KEY",
    ]);
    const example = docs("secret.example.yaml")[0]!;
    for (const key of [...secretKeys(web), ...secretKeys(container("hangar-gateway"))])
      expect(Object.keys(example.stringData)).toContain(key);
  });

  it("Hangar's own pods get no Service variables and the gateway no API token", () => {
    for (const name of ["hangar-web", "hangar-gateway"])
      expect(find("Deployment", name).spec.template.spec.enableServiceLinks).toBe(false);
    expect(find("Deployment", "hangar-gateway").spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it("the sandbox namespace has a LimitRange that admits the pods config.yaml's settings make", () => {
    const range = applied.find((d) => d.kind === "LimitRange" && d.metadata.namespace === SANDBOX_NS);
    const limits = (range?.spec.limits as Doc[]).find((l) => l.type === "Container")!;
    for (const resource of ["cpu", "memory", "ephemeral-storage"]) {
      expect(limits.default[resource]).toBeDefined();
      expect(limits.max[resource]).toBeDefined();
    }
    const config = loadConfig(find("ConfigMap", "hangar-config").data);
    expect(config.HANGAR_SESSION_CPU).toBeLessThanOrEqual(quantity(limits.max.cpu));
    expect(config.HANGAR_SESSION_MEMORY_MIB * 2 ** 20).toBeLessThanOrEqual(quantity(limits.max.memory));
    expect(config.HANGAR_SESSION_DISK_MIB * 2 ** 20).toBeLessThanOrEqual(
      quantity(limits.max["ephemeral-storage"]),
    );
  });
});

describe("validateKubernetesObject", () => {
  const pod = (containerPort: unknown) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "broken", namespace: SANDBOX_NS },
    spec: { containers: [{ name: "main", image: "busybox", ports: [{ containerPort }] }] },
  });
  const sandbox = (spec: object) => ({
    apiVersion: "agents.x-k8s.io/v1beta1",
    kind: "Sandbox",
    metadata: { name: "s1", namespace: SANDBOX_NS },
    spec: { podTemplate: { spec: { containers: [{ name: "main", image: "busybox" }] } }, ...spec },
  });

  it("accepts a well-formed Pod and Sandbox", () => {
    expect(validateKubernetesObject(pod(8080))).toEqual([]);
    expect(validateKubernetesObject(sandbox({ operatingMode: "Suspended" }))).toEqual([]);
  });

  it("rejects a Pod whose containerPort is not a number", () => {
    expect(validateKubernetesObject(pod("abc"))).toEqual([
      `Pod ${SANDBOX_NS}/broken: /spec/containers/0/ports/0/containerPort must be integer`,
    ]);
  });

  it("rejects a Sandbox with an operatingMode the CRD does not know", () => {
    expect(validateKubernetesObject(sandbox({ operatingMode: "Paused" }))).toEqual([
      `Sandbox ${SANDBOX_NS}/s1: /spec/operatingMode must be equal to one of the allowed values (Running, Suspended)`,
    ]);
  });

  it("rejects fields the Sandbox CRD does not declare (v1alpha1's replicas)", () => {
    expect(validateKubernetesObject(sandbox({ replicas: 1 }))).toEqual([
      `Sandbox ${SANDBOX_NS}/s1: /spec has unknown field "replicas"`,
    ]);
  });

  it("rejects an unknown kind instead of passing it", () => {
    const problems = validateKubernetesObject({
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
    });
    expect(problems).toEqual([
      "Widget w: unknown apiVersion/kind example.com/v1/Widget (Hangar has no schema for it, so it is not accepted)",
    ]);
  });

  it("rejects names and labels the API server would refuse", () => {
    const bad = {
      ...pod(80),
      metadata: { name: "Bad_Name", labels: { "hangar.dev/session-id": "x".repeat(64) } },
    };
    expect(validateKubernetesObject(bad)).toEqual([
      'Pod Bad_Name: /metadata/name "Bad_Name" is not a DNS-1123 subdomain',
      `Pod Bad_Name: /metadata/labels/hangar.dev/session-id value "${"x".repeat(64)}" is not a valid label value`,
    ]);
  });
});

describe("objects the kubernetes driver sends per session", () => {
  const input: SessionObjectsInput = {
    sessionId: "sess_01JH5Y7Q8ZK3M4N5P6R7S8T9VW",
    agentId: "agent_01JH5Y7Q8ZK3M4N5P6R7S8T9VX",
    namespace: SANDBOX_NS,
    instance: "hangar",
    image: "ghcr.io/hangar-dev/hangar-sandbox:0.1.0",
    argv: [
      "/usr/local/bin/node",
      "/app/lib/sandbox/bootstrap/boot.mjs",
      "~/.hangar/boot.json",
      "~/.hangar/status",
    ],
    env: { HTTPS_PROXY: "http://sess:token@hangar-gateway.hangar.svc.cluster.local:3128" },
    homeFiles: { ".hangar/boot.json": Buffer.from("{}"), "notes/readme.md": Buffer.from("# hi\n") },
    ports: [4096],
    memoryMiB: 4096,
    cpuMillis: 2000,
    diskMiB: 10240,
    nproc: 512,
    userNamespaces: true,
    gatewayAlias: { ip: "10.96.0.20", hostnames: ["hangar-gateway.hangar.svc.cluster.local"] },
    runtimeClassName: "gvisor",
    ttlSeconds: 12 * 3600,
    now: new Date("2026-01-01T00:00:00Z"),
  };
  const owner = {
    apiVersion: "v1",
    kind: "Pod",
    name: "hangar-sess-01",
    uid: "0e1c2d3f-1111-2222-3333-444455556666",
  };
  const built = {
    sandbox: buildSandbox(input),
    pod: buildPod(input),
    service: buildService(input, owner),
    secret: buildBootSecret(input),
  };

  it.each(Object.entries(built))("%s validates", (_name, obj) => {
    expect(validateKubernetesObject(obj)).toEqual([]);
  });

  it.each([
    ["sandbox", built.sandbox.spec.podTemplate.spec],
    ["pod", built.pod.spec],
  ])("the %s's pod meets Pod Security 'restricted', which deploy/ enforces", (_name, spec: Doc) => {
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(spec.hostNetwork ?? false).toBe(false);
    expect(spec.hostPID ?? false).toBe(false);
    for (const volume of spec.volumes as Doc[]) expect(volume.hostPath).toBeUndefined();
    for (const container of [...spec.containers, ...(spec.initContainers ?? [])] as Doc[]) {
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
      expect(container.securityContext.privileged ?? false).toBe(false);
    }
  });

  it.each([
    ["sandbox", built.sandbox.spec.podTemplate.spec],
    ["pod", built.pod.spec],
  ])("the %s's pod is bounded and has no DNS server", (_name, spec: Doc) => {
    expect(spec).toMatchObject({
      dnsPolicy: "None",
      dnsConfig: { nameservers: ["127.0.0.1"] },
      hostAliases: [{ ip: "10.96.0.20", hostnames: ["hangar-gateway.hangar.svc.cluster.local"] }],
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostUsers: false,
    });
    for (const c of [...spec.containers, ...spec.initContainers] as Doc[]) {
      for (const kind of ["requests", "limits"])
        expect(Object.keys(c.resources[kind]).sort()).toEqual(["cpu", "ephemeral-storage", "memory"]);
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    }
    for (const volume of (spec.volumes as Doc[]).filter((v) => v.emptyDir))
      expect(volume.emptyDir.sizeLimit).toBeDefined();
    expect(spec.containers[0].command.slice(0, 2)).toEqual(["/usr/bin/prlimit", "--nproc=512:512"]);
  });

  it("the LimitRange of deploy/ admits the sandbox container as built", () => {
    const range = applied.find((d) => d.kind === "LimitRange" && d.metadata.namespace === SANDBOX_NS)!;
    const max = (range.spec.limits as Doc[]).find((l) => l.type === "Container")!.max as Doc;
    const limits = built.pod.spec.containers[0]!.resources!.limits as Doc;
    for (const resource of Object.keys(max))
      expect(quantity(limits[resource])).toBeLessThanOrEqual(quantity(max[resource]));
  });
});
