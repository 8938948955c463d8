/*
 * The Kubernetes driver's contract suite, through the real @kubernetes/client-node. Two targets:
 * - "stand-in": an in-repo stand-in API server (e2e/support/kube-standin), NOT Kubernetes; the test
 *   plays the agent-sandbox controller and the kubelet, and containers are real processes (bubblewrap
 *   sandboxes). Run with and without the agent-sandbox CRD (Sandbox resources vs the Pod fallback).
 * - "live cluster": the same scenarios against the cluster in KUBECONFIG, when HANGAR_TEST_K8S_IMAGE
 *   names a pushed sandbox image (deploy/Dockerfile, target sandbox) whose /app layout matches this
 *   checkout's path. Reported as skipped when not configured, never as passed.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PtyStatus } from "@/lib/pty/client";
import { KubernetesDriver } from "@/lib/sandbox/drivers/kubernetes/driver";
import { objectName, secretName } from "@/lib/sandbox/drivers/kubernetes/objects";
import { sessionPaths } from "@/lib/sandbox/layout";

import { startKubeStandIn, type KubeStandIn } from "../support/kube-standin";
import { loadYamlDocuments } from "../support/kubernetes/validate";
import { tempDir } from "../support/server";

type Target = {
  kubeConfig: k8s.KubeConfig;
  namespace: string;
  image: string;
  standIn?: KubeStandIn;
  stop: () => Promise<void>;
};

const LIVE = Boolean(process.env.KUBECONFIG && process.env.HANGAR_TEST_K8S_IMAGE);

const targets: [string, () => Promise<Target>, boolean][] = [
  ["stand-in API server, agent-sandbox Sandbox resources", async () => standIn(true), true],
  ["stand-in API server, Pod fallback (no CRD)", async () => standIn(false), true],
  [
    "live cluster (KUBECONFIG)",
    async () => {
      const kubeConfig = new k8s.KubeConfig();
      kubeConfig.loadFromDefault();
      return {
        kubeConfig,
        namespace: process.env.HANGAR_K8S_NAMESPACE ?? "hangar-sandboxes",
        image: process.env.HANGAR_TEST_K8S_IMAGE!,
        stop: async () => undefined,
      };
    },
    LIVE,
  ],
];

async function standIn(crds: boolean): Promise<Target> {
  const server = await startKubeStandIn({ crds });
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromString(server.kubeconfig);
  return {
    kubeConfig,
    namespace: "hangar-sandboxes",
    image: "hangar-sandbox:test",
    standIn: server,
    stop: () => server.stop(),
  };
}

/** A tiny program for the sandbox: prints a marked status line, serves HTTP on 4096, then waits. */
const PROGRAM = `
process.stdout.write("hello from the pod\\n\\u001eHANGAR-STATUS " + JSON.stringify({ type: "phase", phase: "starting_harness" }) + "\\n");
require("node:http").createServer((req, res) => res.end("pong " + req.url)).listen(4096, "127.0.0.1");
setInterval(() => {}, 1 << 30);
`;

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function get(socketPath: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: urlPath }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe.each(targets)("Kubernetes driver contract: %s", (_name, makeTarget, enabled) => {
  let target: Target;
  let driver: KubernetesDriver;
  let root: string;
  let counter = 0;
  let instance = "";
  const options = () => ({
    root,
    namespace: target.namespace,
    image: target.image,
    instance,
    mode: "auto" as const,
    ttlSeconds: 3600,
    gateway: { host: "127.0.0.1", egressPort: 3128, modelPort: 4000, password: () => "pw" },
    kubeConfig: target.kubeConfig,
  });
  const launched: string[] = [];

  function newSession() {
    const id = `sess_ktest${Date.now().toString(36)}${(counter++).toString(36)}`;
    launched.push(id);
    return id;
  }

  async function launch(argv: string[], options: { port?: number } = {}) {
    const sessionId = newSession();
    const sessionDir = path.join(root, sessionId);
    const handle = await driver.launch({
      sessionId,
      sessionDir,
      argv,
      env: { LANG: "C.UTF-8", GREETING: "hi there" },
      stdin: JSON.stringify({ canary: "k8s-secret-canary" }),
      reverseBridges: options.port
        ? [{ socketPath: path.join(sessionPaths(sessionDir).sock, "harness.sock"), port: options.port }]
        : [],
      limits: { memoryMiB: 512 },
      labels: { agentId: "agt_ktest" },
    });
    return { sessionId, sessionDir, handle };
  }

  async function running(sessionId: string) {
    return waitFor(`${sessionId} running`, async () => {
      const status = await driver.status(sessionId);
      if (status?.state === "exited") throw new Error(`exited: ${status.reason}`);
      return (
        status?.state === "running" &&
        (await driver.exec(sessionId, ["true"]).catch(() => null))?.exitCode === 0
      );
    });
  }

  beforeAll(async () => {
    if (!enabled) return;
    target = await makeTarget();
    root = tempDir("kube-driver");
    instance = `test-${Date.now().toString(36)}`;
    driver = new KubernetesDriver(options());
  }, 60_000);

  afterAll(async () => {
    if (!enabled) return;
    for (const id of launched) await driver.stop(id).catch(() => undefined);
    driver.close();
    await target.stop();
  }, 120_000);

  it.skipIf(!enabled)(
    "launches, reports running, mirrors the log and the status lines, tunnels to the port",
    async () => {
      const { sessionId, sessionDir } = await launch(["node", "-e", PROGRAM], { port: 4096 });
      await running(sessionId);
      const paths = sessionPaths(sessionDir);
      // The boot spec went to the Secret only: never on this host's disk.
      expect(spawnSync("grep", ["-rlaF", "k8s-secret-canary", sessionDir], { encoding: "utf8" }).stdout).toBe(
        "",
      );
      await waitFor("log mirror", async () =>
        fs.readFileSync(paths.log, "utf8").includes("hello from the pod"),
      );
      const status = fs.readFileSync(paths.status, "utf8");
      expect(JSON.parse(status.trim())).toEqual({ type: "phase", phase: "starting_harness" });
      expect(fs.readFileSync(paths.log, "utf8")).not.toContain("HANGAR-STATUS");
      const reply = await waitFor("port-forward", () =>
        get(path.join(paths.tunnels, "harness.sock"), "/ping").catch(() => null),
      );
      expect(reply).toEqual({ status: 200, body: "pong /ping" });
      expect(await driver.readLog(sessionId, 10)).toContain("hello from the pod");
      expect((await driver.list()).map((h) => h.sessionId)).toContain(sessionId);
      // Another process (a restart, another replica) adopts it: the log copy and the tunnel come back.
      const otherRoot = tempDir("kube-driver-adopt");
      const adopter = new KubernetesDriver({ ...options(), root: otherRoot });
      try {
        await adopter.adopt(sessionId);
        const adopted = sessionPaths(path.join(otherRoot, sessionId));
        expect(fs.readFileSync(adopted.log, "utf8")).toContain("hello from the pod");
        expect(fs.readFileSync(adopted.status, "utf8")).toBe(status);
        expect(await get(path.join(adopted.tunnels, "harness.sock"), "/again")).toEqual({
          status: 200,
          body: "pong /again",
        });
      } finally {
        adopter.close();
      }
      const again = await driver.launch({ sessionId, sessionDir, argv: ["node", "-e", PROGRAM], env: {} });
      expect(again.state).toBe("running"); // idempotent

      if (target.standIn) {
        const mode = await driver.mode();
        const name = objectName(sessionId);
        const secret = target.standIn
          .objects("Secret", target.namespace)
          .find((s) => s.metadata.name === secretName(sessionId));
        expect(secret?.metadata.ownerReferences?.[0]).toMatchObject({
          kind: mode === "sandbox" ? "Sandbox" : "Pod",
          name,
          controller: true,
        });
        const pod = target.standIn.objects("Pod", target.namespace).find((p) => p.metadata.name === name);
        expect(pod?.metadata.labels).toMatchObject({
          "hangar.dev/session-id": sessionId,
          "hangar.dev/agent-id": "agt_ktest",
        });
        expect(JSON.stringify(pod)).not.toContain("k8s-secret-canary");
        if (mode === "pod") {
          expect(target.standIn.objects("Service", target.namespace).map((s) => s.metadata.name)).toContain(
            name,
          );
        } else {
          expect(target.standIn.objects("Sandbox", target.namespace).map((s) => s.metadata.name)).toContain(
            name,
          );
        }
      }
    },
    120_000,
  );

  it.skipIf(!enabled)(
    "exec: exit codes, stdout and stderr, env and cwd by stdin (not the URL), a timeout",
    async () => {
      const { sessionId } = await launch(["node", "-e", "setInterval(() => {}, 1 << 30)"]);
      await running(sessionId);
      expect((await driver.exec(sessionId, ["mkdir", "-p", "sub"])).exitCode).toBe(0);
      const ok = await driver.exec(
        sessionId,
        ["/bin/sh", "-c", 'echo "$GREETING $SECRET_ONE"; pwd; echo oops >&2; exit 3'],
        {
          env: { SECRET_ONE: "exec-canary-771" },
          cwd: "sub",
        },
      );
      expect(ok).toEqual({
        exitCode: 3,
        stdout: "hi there exec-canary-771\n/home/agent/workspace/sub\n",
        stderr: "oops\n",
        timedOut: false,
      });
      expect(await driver.exec(sessionId, ["cat"], { stdin: "piped in" })).toMatchObject({
        exitCode: 0,
        stdout: "piped in",
      });
      expect((await driver.exec(sessionId, ["sleep", "5"], { timeoutMs: 300 })).timedOut).toBe(true);
      if (target.standIn) {
        const urls = target.standIn.requests
          .filter((r) => r.path.endsWith("/exec"))
          .map((r) => JSON.stringify(r.query));
        expect(urls.join("\n")).not.toContain("exec-canary-771");
      }
    },
    120_000,
  );

  it.skipIf(!enabled)(
    "spawn: a piped program, killed from outside",
    async () => {
      const { sessionId } = await launch(["node", "-e", "setInterval(() => {}, 1 << 30)"]);
      await running(sessionId);
      const child = driver.spawn(sessionId, ["/bin/sh", "-c", 'read line; echo "got $line"; exec sleep 30']);
      let out = "";
      child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
      child.stdin!.write("ping\n");
      await waitFor("spawn output", async () => out.includes("got ping"));
      const exited = new Promise<unknown[]>((resolve) => child.once("exit", (...args) => resolve(args)));
      child.kill("SIGTERM");
      const [code, signal] = await exited;
      expect(code === 143 || signal === "SIGTERM" || code === null).toBe(true);
    },
    120_000,
  );

  it.skipIf(!enabled)(
    "terminals: start a held PTY, attach, type, resize, reattach to the same screen",
    async () => {
      const { sessionId } = await launch(["node", "-e", "setInterval(() => {}, 1 << 30)"]);
      await running(sessionId);
      const started = await driver.startPty(sessionId, {
        name: "tui",
        argv: ["/bin/sh"],
        cols: 80,
        rows: 24,
        title: "sh",
      });
      expect(started.created).toBe(true);
      expect((await driver.startPty(sessionId, { name: "tui", argv: ["/bin/sh"] })).created).toBe(false);
      let screen = "";
      const statuses: PtyStatus[] = [];
      const first = await driver.attachPty(sessionId, "tui", {
        snapshot: (s) => (screen += s),
        output: (b) => (screen += b.toString()),
        status: (s) => statuses.push(s),
      });
      first.resize(100, 30);
      first.write("echo $((6*7)) $(stty size)\r");
      await waitFor("shell output", async () => /42 30 100/.test(screen));
      first.close();
      let snapshot = "";
      const second = await driver.attachPty(sessionId, "tui", { snapshot: (s) => (snapshot += s) });
      await waitFor("snapshot on reattach", async () => snapshot.includes("42 30 100"));
      second.close();
      expect(statuses[0]?.running).toBe(true);
      await expect(driver.attachPty(sessionId, "nope", {})).rejects.toThrow(/No terminal "nope"/);
    },
    120_000,
  );

  it.skipIf(!enabled)(
    "a main process that exits is reported with its code; stop removes everything",
    async () => {
      const { sessionId } = await launch(["/bin/sh", "-c", "echo bye; exit 3"]);
      const status = await waitFor("exit", async () => {
        const s = await driver.status(sessionId);
        return s?.state === "exited" ? s : null;
      });
      expect(status).toMatchObject({ exitCode: 3, reason: "the sandbox's main process exited with code 3" });
      await driver.stop(sessionId);
      expect(await driver.status(sessionId)).toBeNull();
      await driver.stop(sessionId); // idempotent
      if (target.standIn) {
        const names = ["Sandbox", "Pod", "Secret", "Service"].flatMap((kind) =>
          target.standIn!.objects(kind, target.namespace).map((o) => o.metadata.name),
        );
        expect(names.filter((n) => n?.startsWith(objectName(sessionId)))).toEqual([]);
      }
    },
    120_000,
  );

  it.skipIf(!enabled)(
    "preflight: API access, mode, and whether NetworkPolicy keeps pods behind the gateway",
    async () => {
      if (!target.standIn) return;
      const before = await driver.preflight();
      expect(before.notes.join(" ")).toMatch(/Sandbox resources|plain Pods/);
      expect(before.problems).toEqual([
        expect.stringMatching(/no NetworkPolicy in hangar-sandboxes restricts egress/),
      ]);
      // The shipped manifests' policies for the sandbox namespace satisfy it.
      const networking = target.kubeConfig.makeApiClient(k8s.NetworkingV1Api);
      const text = fs.readFileSync(path.join(process.cwd(), "deploy", "network-policies.yaml"), "utf8");
      for (const doc of loadYamlDocuments(text) as k8s.V1NetworkPolicy[]) {
        if (doc.metadata?.namespace === target.namespace)
          await networking.createNamespacedNetworkPolicy({ namespace: target.namespace, body: doc });
      }
      expect(await driver.preflight()).toMatchObject({ ok: true, problems: [] });
    },
  );

  it.skipIf(!enabled)(
    "Sandbox TTL: pushed back while in use, and the controller's expiry otherwise",
    async () => {
      if (!target.standIn || (await driver.mode()) !== "sandbox") return;
      const short = new KubernetesDriver({ ...options(), ttlSeconds: 4 });
      const start = async () => {
        const sessionId = newSession();
        const sessionDir = path.join(root, sessionId);
        await short.launch({ sessionId, sessionDir, argv: ["sleep", "600"], env: {} });
        return sessionId;
      };
      const shutdownOf = (id: string) =>
        target.standIn!.objects("Sandbox", target.namespace).find((o) => o.metadata.name === objectName(id))
          ?.spec?.shutdownTime as string | undefined;
      try {
        const renewed = await start();
        const forgotten = await start();
        const first = shutdownOf(renewed)!;
        await short.keepAlive(renewed); // more than half the TTL left: nothing to do
        expect(shutdownOf(renewed)).toBe(first);
        await new Promise((r) => setTimeout(r, 2500));
        await short.keepAlive(renewed);
        expect(Date.parse(shutdownOf(renewed)!)).toBeGreaterThan(Date.parse(first));
        // Nobody renews the other one: the controller deletes it at its shutdownTime.
        await waitFor("expiry", async () => (await short.status(forgotten)) === null, 15_000);
        expect(await short.status(renewed)).not.toBeNull();
      } finally {
        short.close();
      }
    },
    60_000,
  );

  it.skipIf(!enabled)(
    "failures a cluster reports come back as sentences (stand-in only)",
    async () => {
      if (!target.standIn) return;
      target.standIn.failImagePull("hangar-sandbox:missing", "manifest for hangar-sandbox:missing not found");
      const other = new KubernetesDriver({
        root,
        namespace: target.namespace,
        image: "hangar-sandbox:missing",
        instance: "test-missing",
        mode: "auto",
        gateway: { host: "127.0.0.1", egressPort: 3128, modelPort: 4000, password: () => "pw" },
        kubeConfig: target.kubeConfig,
      });
      const sessionId = newSession();
      const sessionDir = path.join(root, sessionId);
      await other.launch({ sessionId, sessionDir, argv: ["true"], env: {} });
      const pulled = await waitFor("pull failure", async () => {
        const s = await other.status(sessionId);
        return s?.state === "exited" ? s : null;
      });
      expect(pulled.reason).toMatch(
        /image hangar-sandbox:missing could not be pulled \(ErrImagePull|ImagePullBackOff/,
      );
      await other.stop(sessionId);
      other.close();

      const { sessionId: oomId } = await launch(["node", "-e", "setInterval(() => {}, 1 << 30)"]);
      await running(oomId);
      target.standIn.oomKill(objectName(oomId), { namespace: target.namespace });
      const oom = await waitFor("oom", async () => {
        const s = await driver.status(oomId);
        return s?.state === "exited" ? s : null;
      });
      expect(oom.reason).toBe("the sandbox ran out of memory (OOMKilled, limit 512Mi)");
    },
    120_000,
  );
});
