/*
 * Hangar end to end on HANGAR_SANDBOX_DRIVER=kubernetes, against the in-repo stand-in API server
 * (e2e/support/kube-standin: NOT Kubernetes; the test plays the agent-sandbox controller and the
 * kubelet, pods are real bubblewrap sandboxes running the real bootstrap and harness binaries). The
 * shared gateway runs as a real second Hangar process (HANGAR_ROLE=gateway) on one PostgreSQL
 * database with the web replicas; pods reach it through the stand-in's "cluster services".
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { KubernetesDriver } from "@/lib/sandbox/drivers/kubernetes/driver";
import { objectName, secretName } from "@/lib/sandbox/drivers/kubernetes/objects";

import { callServer as call } from "../support/api";
import { startKubeStandIn, type KubeStandIn } from "../support/kube-standin";
import {
  createTestDatabase,
  freePort,
  startGateway,
  startServer,
  tempDir,
  waitForExit,
  type TestGateway,
  type TestServer,
} from "../support/server";
import { wsTerminal } from "../support/terminal";

const SESSIONS = "/api/v1/managed_agents/sessions";
const AGENTS = "/api/v1/managed_agents/agents";
const NS = "hangar-sandboxes";
const IMAGE = "hangar-sandbox:test";

type Server = Pick<TestServer, "url" | "masterKey">;

async function session(server: Server, agent: Record<string, unknown>, until: "ready" | "failed" = "ready") {
  const created = await call(server, "POST", AGENTS, {
    model: "anthropic/claude-sonnet-4-6",
    name: `k8s-${Date.now()}`,
    ...agent,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const opened = await call(server, "POST", `${AGENTS}/${created.body.id}/session`, {});
  expect(opened.status, JSON.stringify(opened.body)).toBe(201);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const res = await call(server, "GET", `${SESSIONS}/${opened.body.id}`);
    if (res.body.status === until) return res.body;
    if (["failed", "dead"].includes(res.body.status) || Date.now() > deadline)
      throw new Error(JSON.stringify(res.body));
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until an event of `type` is in the session's log past its first `after` events. */
async function logged(server: Server, sessionId: string, after: number, type: string) {
  for (;;) {
    const log = await call(server, "GET", `${SESSIONS}/${sessionId}/log?limit=1000`);
    if (log.body.data.slice(after).some((e: { type: string }) => e.type === type)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function gone(standIn: KubeStandIn, sessionId: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const left = ["Sandbox", "Pod", "Secret", "Service"].flatMap((kind) =>
      standIn
        .objects(kind, NS)
        .map((o) => `${kind}/${o.metadata.name}`)
        .filter((n) => n.includes(objectName(sessionId))),
    );
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`left behind: ${left.join(", ")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const wsBase = (server: Server) => server.url.replace(/^http/, "ws");

/** One stand-in cluster, its gateway and a web replica, all on one fresh PostgreSQL database. */
async function cluster(crds: boolean) {
  const database = await createTestDatabase();
  const sockets = tempDir("kube-gw");
  const egress = path.join(sockets, "egress.sock");
  const model = path.join(sockets, "model.sock");
  const standIn = await startKubeStandIn({
    crds,
    clusterServices: [
      { port: 3128, socketPath: egress },
      { port: 4000, socketPath: model },
    ],
  });
  const masterKey = `hk_test_kube_${Date.now()}_${crds ? "crd" : "pod"}`;
  const env = {
    // Shared by every replica and the gateway, as deploy/ does: derived secrets (the harness and egress
    // passwords) must agree across processes.
    HANGAR_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    HANGAR_SANDBOX_DRIVER: "kubernetes",
    KUBECONFIG: standIn.kubeconfigPath,
    HANGAR_K8S_NAMESPACE: NS,
    HANGAR_K8S_IMAGE: IMAGE,
    HANGAR_K8S_GATEWAY_HOST: "127.0.0.1",
  };
  const gateway = await startGateway({
    databaseUrl: database.url,
    masterKey,
    env: {
      HANGAR_ENCRYPTION_KEY: env.HANGAR_ENCRYPTION_KEY,
      HANGAR_GATEWAY_EGRESS_LISTEN: egress,
      HANGAR_GATEWAY_MODEL_LISTEN: model,
    },
  });
  const port = await freePort();
  const dataDir = tempDir("kube-web");
  const web = await startServer({ databaseUrl: database.url, masterKey, env, port, dataDir });
  return { database, standIn, gateway, web, env, masterKey, port, dataDir };
}

describe("Hangar on the kubernetes driver (contract test against the stand-in API server, Sandbox CRD)", () => {
  let c: Awaited<ReturnType<typeof cluster>>;
  let web: TestServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    c = await cluster(true);
    web = c.web;
    gateway = c.gateway;
  }, 120_000);

  afterAll(async () => {
    await web?.stop().catch(() => undefined);
    await gateway?.stop().catch(() => undefined);
    await c?.standIn.stop();
    await c?.database.drop();
  }, 60_000);

  it("opencode: create, ready, message, shell terminal, logs, a second replica, delete", async () => {
    const canary = `k8s-canary-${Date.now()}`;
    const s = await session(web, {
      harness_id: "opencode",
      env_vars: { K8S_CANARY: canary },
      deny_out: ["blocked.example"],
    });
    expect(s.sandbox).toMatchObject({ driver: "kubernetes", isolation: "container" });

    const [sandbox] = c.standIn.objects("Sandbox", NS).filter((o) => o.metadata.name === objectName(s.id));
    expect(sandbox?.metadata.labels).toMatchObject({
      "hangar.dev/session-id": s.id,
      "app.kubernetes.io/managed-by": "hangar",
    });
    const secret = c.standIn.objects("Secret", NS).find((o) => o.metadata.name === secretName(s.id));
    expect(secret?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Sandbox", name: objectName(s.id) });
    // The per-session env var travels in the Secret only: not in any pod or Sandbox spec.
    for (const kind of ["Sandbox", "Pod"])
      expect(JSON.stringify(c.standIn.objects(kind, NS))).not.toContain(canary);

    const reply = await call(web, "POST", `${SESSIONS}/${s.id}/message`, {
      text: 'RUN: echo made-in-pod > made.txt && cat made.txt && printf "%s" "$K8S_CANARY" | wc -c && uname -n',
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const text = JSON.stringify(reply.body.parts);
    expect(text).toContain("made-in-pod");
    expect(text).toContain(String(canary.length));

    // Egress goes through the shared gateway, with this session's credentials and policy.
    const blocked = await call(web, "POST", `${SESSIONS}/${s.id}/message`, {
      text: "RUN: curl -sS -m 10 https://blocked.example/ 2>&1; echo curl-exit=$?",
    });
    expect(JSON.stringify(blocked.body.parts)).toMatch(/curl-exit=[1-9]/);
    const events = await call(web, "GET", `${SESSIONS}/${s.id}/log?limit=1000`);
    expect(events.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: "egress_denied",
          data: expect.objectContaining({ host: "blocked.example" }),
        }),
      ]),
    );

    const shell = await wsTerminal(`${wsBase(web)}${SESSIONS}/${s.id}/tty?terminal=shell`, {
      headers: { authorization: `Bearer ${web.masterKey}` },
    });
    shell.type("cat made.txt; echo $((6*7))\r");
    await shell.waitFor(/made-in-pod[\s\S]*42/, 20_000);
    shell.close();

    const logs = await call(web, "GET", `${SESSIONS}/${s.id}/sandbox_logs?tail_lines=200`);
    expect(logs.status).toBe(200);
    expect(logs.text).not.toContain("HANGAR-STATUS");

    // A second web replica on the same database: no sticky sessions.
    const second = await startServer({
      databaseUrl: c.database.url,
      masterKey: c.masterKey,
      env: c.env,
      dataDir: tempDir("kube-web2"),
    });
    try {
      const viaSecond = await call(second, "POST", `${SESSIONS}/${s.id}/message`, {
        text: "RUN: cat made.txt",
      });
      expect(viaSecond.status, JSON.stringify(viaSecond.body)).toBe(200);
      expect(JSON.stringify(viaSecond.body.parts)).toContain("made-in-pod");
      const thread = await call(second, "GET", `${SESSIONS}/${s.id}/messages`);
      expect(thread.body).toHaveLength(6);

      // A turn running in the first replica is aborted through the second (relayed over NOTIFY).
      const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
      const before = (await call(second, "GET", `${SESSIONS}/${s.id}/log?limit=1000`)).body.data.length;
      const sent = call(web, "POST", `${SESSIONS}/${s.id}/message`, { text: `SLOW: 3000\nREPLY: ${words}` });
      await logged(second, s.id, before, "assistant_delta");
      expect((await call(second, "POST", `${SESSIONS}/${s.id}/message`, { text: "meanwhile" })).status).toBe(
        409,
      );
      expect((await call(second, "POST", `${SESSIONS}/${s.id}/abort`)).body).toEqual({
        ok: true,
        aborted: true,
      });
      expect((await sent).body.info.finish).toBe("aborted");
      expect((await call(second, "POST", `${SESSIONS}/${s.id}/abort`)).body).toEqual({
        ok: true,
        aborted: false,
      });

      // A replica that starts meanwhile (and reconciles) leaves a turn another live replica runs alone.
      const mark = (await call(second, "GET", `${SESSIONS}/${s.id}/log?limit=1000`)).body.data.length;
      const long = call(web, "POST", `${SESSIONS}/${s.id}/message`, { text: "SLOW: 60000\nREPLY: late" });
      await logged(second, s.id, mark, "turn_started");
      const third = await startServer({
        databaseUrl: c.database.url,
        masterKey: c.masterKey,
        env: c.env,
        dataDir: tempDir("kube-web3"),
      });
      try {
        const log = await call(third, "GET", `${SESSIONS}/${s.id}/log?limit=1000`);
        expect(log.body.data.slice(mark).map((e: { type: string }) => e.type)).not.toContain("turn_error");
        const aborted = await call(third, "POST", `${SESSIONS}/${s.id}/abort`);
        expect(aborted.body).toEqual({ ok: true, aborted: true });
        expect((await long).body.info.finish).toBe("aborted");
      } finally {
        third.proc.kill("SIGTERM");
        await waitForExit(third.proc);
      }
    } finally {
      await second.proc.kill("SIGTERM");
      await waitForExit(second.proc);
    }

    expect((await call(web, "DELETE", `${SESSIONS}/${s.id}`)).status).toBe(200);
    await gone(c.standIn, s.id);
    const requests = c.standIn.requests.map((r) => `${r.method} ${r.path}`).join("\n");
    expect(requests).toMatch(/\/pods\/[^/]+\/exec/);
    expect(requests).toMatch(/\/pods\/[^/]+\/portforward/);
    for (const file of [web.logFile, gateway.logFile])
      expect(fs.readFileSync(file, "utf8")).not.toContain(canary);
  }, 240_000);

  it("codex TUI: the terminal survives a SIGKILL of Hangar and reattaches to the same screen", async () => {
    const s = await session(web, { harness_id: "codex" });
    const first = await wsTerminal(`${wsBase(web)}${s.tty_url}`);
    await first.waitFor("OpenAI Codex", 30_000);
    first.type("k8s-typed-before-crash");
    await first.waitFor("k8s-typed-before-crash");
    first.close();

    web.proc.kill("SIGKILL");
    await waitForExit(web.proc);
    // While Hangar is down, a sandbox of this installation with no session appears (a leftover).
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromString(c.standIn.kubeconfig);
    const stray = new KubernetesDriver({
      root: tempDir("kube-stray"),
      namespace: NS,
      image: IMAGE,
      instance: "hangar",
      mode: "auto",
      gateway: { host: "127.0.0.1", egressPort: 3128, modelPort: 4000, password: () => "unused" },
      kubeConfig,
    });
    const strayId = "sess_strayk8s0000000000000000000";
    const strayDir = path.join(tempDir("kube-stray-dir"), strayId);
    fs.mkdirSync(path.join(strayDir, "home", ".hangar"), { recursive: true });
    await stray.launch({ sessionId: strayId, sessionDir: strayDir, argv: ["sleep", "600"], env: {} });
    stray.close();
    web = await startServer({
      databaseUrl: c.database.url,
      masterKey: c.masterKey,
      env: c.env,
      port: c.port,
      dataDir: c.dataDir,
    });
    const after = await call(web, "GET", `${SESSIONS}/${s.id}`);
    expect(after.body.status).toBe("ready");
    await gone(c.standIn, strayId); // reaped by the reconciler: labelled as ours, no live session
    const again = await wsTerminal(`${wsBase(web)}${SESSIONS}/${s.id}/tty`, {
      headers: { authorization: `Bearer ${web.masterKey}` },
    });
    await again.waitFor("k8s-typed-before-crash", 20_000);
    again.close();
    expect((await call(web, "DELETE", `${SESSIONS}/${s.id}`)).status).toBe(200);
    await gone(c.standIn, s.id);
  }, 240_000);
});

describe("Hangar on the kubernetes driver (contract test against the stand-in API server, Pod fallback)", () => {
  let c: Awaited<ReturnType<typeof cluster>>;

  beforeAll(async () => {
    c = await cluster(false);
  }, 120_000);

  afterAll(async () => {
    await c?.web.stop().catch(() => undefined);
    await c?.gateway.stop().catch(() => undefined);
    await c?.standIn.stop();
    await c?.database.drop();
  }, 60_000);

  it("claude-agent-sdk on a plain Pod + headless Service: message, delete; a missing image fails the session with the reason", async () => {
    const s = await session(c.web, { harness_id: "claude-agent-sdk" });
    const pod = c.standIn.objects("Pod", NS).find((o) => o.metadata.name === objectName(s.id));
    expect(pod).toBeDefined();
    const service = c.standIn.objects("Service", NS).find((o) => o.metadata.name === objectName(s.id));
    expect(service?.spec).toMatchObject({ clusterIP: "None" });
    expect(c.standIn.objects("Sandbox", NS)).toEqual([]);

    const reply = await call(c.web, "POST", `${SESSIONS}/${s.id}/message`, {
      text: "hello from the pod test",
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(JSON.stringify(reply.body.parts)).toContain("you said");
    expect((await call(c.web, "DELETE", `${SESSIONS}/${s.id}`)).status).toBe(200);
    await gone(c.standIn, s.id);

    c.standIn.failImagePull(IMAGE, `manifest for ${IMAGE} not found: manifest unknown`);
    const failed = await session(c.web, { harness_id: "opencode" }, "failed");
    expect(failed.failure_reason ?? failed.phase_detail).toMatch(
      /image hangar-sandbox:test could not be pulled/,
    );
    await gone(c.standIn, failed.id);
  }, 240_000);
});
