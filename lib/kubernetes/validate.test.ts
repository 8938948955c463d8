import fs from "node:fs";
import path from "node:path";

import yaml from "js-yaml";
import { describe, expect, it } from "vitest";

import {
  buildBootSecret,
  buildPod,
  buildSandbox,
  buildService,
  type SessionObjectsInput,
} from "@/lib/sandbox/drivers/kubernetes/objects";

import { loadYamlDocuments, validateKubernetesObject } from "./validate";

type Doc = Record<string, any>;

const DEPLOY = path.join(process.cwd(), "deploy");
const SANDBOX_NS = "hangar-sandboxes";

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

  it("grants nothing cluster-wide: one Role and its RoleBinding, both in the sandbox namespace", () => {
    expect(applied.filter((d) => /^Cluster/.test(d.kind))).toEqual([]);
    const roles = applied.filter((d) => d.kind === "Role");
    const bindings = applied.filter((d) => d.kind === "RoleBinding");
    expect(roles.map((r) => r.metadata.namespace)).toEqual([SANDBOX_NS]);
    expect(bindings.map((b) => b.metadata.namespace)).toEqual([SANDBOX_NS]);
    expect(bindings[0]!.roleRef).toMatchObject({ kind: "Role", name: roles[0]!.metadata.name });
    expect(bindings[0]!.subjects).toEqual([
      { kind: "ServiceAccount", name: "hangar-web", namespace: "hangar" },
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

  it("lets sandbox pods out only to the gateway (3128, 4000) and DNS (53)", () => {
    const policies = applied.filter((d) => d.kind === "NetworkPolicy" && d.metadata.namespace === SANDBOX_NS);
    const ports = policies.flatMap((p) =>
      ((p.spec.egress ?? []) as Doc[]).flatMap((rule) => {
        expect(rule.to?.length).toBeGreaterThan(0); // no rule without a destination
        return (rule.ports as Doc[]).map((port) => port.port as number);
      }),
    );
    expect(new Set(ports)).toEqual(new Set([3128, 4000, 53]));
    expect(policies.flatMap((p) => p.spec.ingress ?? [])).toEqual([]);
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
});
