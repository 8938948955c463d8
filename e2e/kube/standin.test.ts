import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { PassThrough, Writable } from "node:stream";

import {
  ApiException,
  Attach,
  CoreV1Api,
  CustomObjectsApi,
  Exec,
  KubeConfig,
  Log,
  PatchStrategy,
  PortForward,
  setHeaderOptions,
  Watch,
  type V1Status,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { DEFAULT_PATH } from "@/lib/sandbox/drivers/bwrap-args";
import { findExecutable } from "@/lib/sandbox/drivers/procs";

import { NAME_HASH_LABEL, nameHash, startKubeStandIn, type KubeStandIn } from "../support/kube-standin";

/*
 * The stand-in API server, driven by the real @kubernetes/client-node 1.4.0: what the Kubernetes
 * driver's contract tests rely on. Pods run as real processes (bubblewrap), so those cases need the
 * local driver's tools and are skipped, loudly, without them.
 */

const TOOLS = ["bwrap", "socat", "nsenter", "setpriv", "prlimit"];
const missing = TOOLS.filter((t) => !findExecutable(t, DEFAULT_PATH));
if (missing.length > 0) {
  console.warn(
    `SKIPPING stand-in pod tests: missing ${missing.join(", ")} (apt-get install bubblewrap socat)`,
  );
}
const withPods = missing.length > 0 ? describe.skip : describe;

const NS = "default";
const GROUP = "agents.x-k8s.io";
const VERSION = "v1beta1";

function clientsFor(standIn: KubeStandIn) {
  const kc = new KubeConfig();
  kc.loadFromString(standIn.kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

/** The V1Status body of a failed call. */
async function statusOf(call: Promise<unknown>): Promise<V1Status & { code: number }> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = err.body as unknown;
    return (typeof body === "string" ? JSON.parse(body) : body) as V1Status & { code: number };
  }
  throw new Error("expected the call to fail");
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function collector() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  const ended = new Promise<void>((resolve) => stream.on("finish", () => resolve()));
  return {
    stream,
    ended,
    buffer: () => Buffer.concat(chunks),
    text: () => Buffer.concat(chunks).toString("utf8"),
  };
}

const condition = (obj: any, type: string) =>
  (obj?.status?.conditions ?? []).find((c: { type: string }) => c.type === type);

describe("stand-in API server: REST", () => {
  let standIn: KubeStandIn;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let kc: KubeConfig;

  beforeAll(async () => {
    standIn = await startKubeStandIn({ kubelet: false, controller: false, bookmarkIntervalMs: 100 });
    ({ kc, core, custom } = clientsFor(standIn));
  });
  afterAll(() => standIn?.stop());

  it("serves discovery, refuses a missing or wrong bearer token with a 401 Status", async () => {
    const get = (p: string, token = standIn.token) =>
      fetch(standIn.url + p, { headers: { Authorization: `Bearer ${token}` } });
    expect((await (await get("/api")).json()).versions).toEqual(["v1"]);
    const core = await (await get("/api/v1")).json();
    expect(core.resources.map((r: { name: string }) => r.name)).toEqual(
      expect.arrayContaining([
        "pods",
        "pods/exec",
        "pods/log",
        "pods/portforward",
        "services",
        "secrets",
        "namespaces",
      ]),
    );
    const groups = (await (await get("/apis")).json()).groups.map((g: { name: string }) => g.name);
    expect(groups).toEqual(expect.arrayContaining([GROUP, "networking.k8s.io"]));
    const sandboxes = await (await get(`/apis/${GROUP}/${VERSION}`)).json();
    expect(sandboxes.resources.map((r: { name: string }) => r.name)).toEqual([
      "sandboxes",
      "sandboxes/status",
    ]);
    expect((await (await get("/apis/networking.k8s.io/v1")).json()).resources[0].name).toBe(
      "networkpolicies",
    );
    expect((await (await get("/version")).json()).gitVersion).toMatch(/standin/);

    for (const res of [
      await fetch(standIn.url + "/api/v1/namespaces/default/pods"),
      await get("/api", "wrong"),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({
        kind: "Status",
        status: "Failure",
        reason: "Unauthorized",
        code: 401,
      });
    }
  });

  it("answers 404 for the agent-sandbox group when the CRDs are not installed", async () => {
    const bare = await startKubeStandIn({ crds: false, kubelet: false });
    try {
      const res = await fetch(`${bare.url}/apis/${GROUP}/${VERSION}`, {
        headers: { Authorization: `Bearer ${bare.token}` },
      });
      expect(res.status).toBe(404);
      expect((await res.json()).reason).toBe("NotFound");
      const { custom: c } = clientsFor(bare);
      const status = await statusOf(
        c.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: "sandboxes" }),
      );
      expect(status.code).toBe(404);
    } finally {
      await bare.stop();
    }
  });

  it("creates, reads, lists with label and field selectors, updates and deletes", async () => {
    const labels: Record<string, string>[] = [
      { app: "a", tier: "web" },
      { app: "a", tier: "db" },
      { app: "b" },
    ];
    for (const [i, l] of labels.entries()) {
      const created = await core.createNamespacedConfigMap({
        namespace: NS,
        body: { metadata: { name: `sel-${i}`, labels: l }, data: { i: String(i) } },
      });
      expect(created.metadata).toMatchObject({ name: `sel-${i}`, namespace: NS, generation: 1 });
      expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    }
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await core.listNamespacedConfigMap({ namespace: NS, labelSelector, fieldSelector })).items
        .map((c) => c.metadata!.name)
        .filter((n) => n!.startsWith("sel-"));
    expect(await names("app=a")).toEqual(["sel-0", "sel-1"]);
    expect(await names("app==a,tier!=db")).toEqual(["sel-0"]);
    expect(await names("tier in (web, db)")).toEqual(["sel-0", "sel-1"]);
    expect(await names("app notin (a)")).toEqual(["sel-2"]);
    expect(await names("tier")).toEqual(["sel-0", "sel-1"]);
    expect(await names("!tier")).toEqual(["sel-2"]);
    expect(await names(undefined, "metadata.name=sel-1")).toEqual(["sel-1"]);
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);

    const got = await core.readNamespacedConfigMap({ name: "sel-0", namespace: NS });
    const updated = await core.replaceNamespacedConfigMap({
      name: "sel-0",
      namespace: NS,
      body: { ...got, data: { i: "zero" } },
    });
    expect(updated.data).toEqual({ i: "zero" });
    expect(Number(updated.metadata!.resourceVersion)).toBeGreaterThan(Number(got.metadata!.resourceVersion));

    const deleted = (await core.deleteNamespacedConfigMap({ name: "sel-0", namespace: NS })) as V1Status;
    expect(deleted).toMatchObject({
      kind: "Status",
      status: "Success",
      details: { name: "sel-0", kind: "configmaps" },
    });
    expect(await names("app=a")).toEqual(["sel-1"]);
  });

  it("answers errors with the real server's Status bodies (404, 409 AlreadyExists, 409 Conflict, 422)", async () => {
    expect(await statusOf(core.readNamespacedSecret({ name: "nope", namespace: NS }))).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'secrets "nope" not found',
      reason: "NotFound",
      details: { name: "nope", kind: "secrets" },
      code: 404,
    });
    const notFound = await statusOf(
      custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: "sandboxes",
        name: "nope",
      }),
    );
    expect(notFound).toMatchObject({
      message: `sandboxes.${GROUP} "nope" not found`,
      details: { name: "nope", group: GROUP, kind: "sandboxes" },
    });

    const body = { metadata: { name: "dup" }, stringData: { token: "t" } };
    const first = await core.createNamespacedSecret({ namespace: NS, body });
    expect(first.data).toEqual({ token: Buffer.from("t").toString("base64") });
    expect(await statusOf(core.createNamespacedSecret({ namespace: NS, body }))).toMatchObject({
      reason: "AlreadyExists",
      message: 'secrets "dup" already exists',
      details: { name: "dup", kind: "secrets" },
      code: 409,
    });

    await core.replaceNamespacedSecret({
      name: "dup",
      namespace: NS,
      body: { ...first, data: { token: "dTI=" } },
    });
    expect(
      await statusOf(
        core.replaceNamespacedSecret({
          name: "dup",
          namespace: NS,
          body: { ...first, data: { token: "dTM=" } },
        }),
      ),
    ).toMatchObject({
      reason: "Conflict",
      code: 409,
      message: expect.stringContaining(
        'Operation cannot be fulfilled on secrets "dup": the object has been modified',
      ),
    });

    expect(
      await statusOf(core.createNamespacedSecret({ namespace: NS, body: { metadata: {} } })),
    ).toMatchObject({
      reason: "Invalid",
      code: 422,
      details: { kind: "Secret", causes: [{ reason: "FieldValueRequired", field: "metadata.name" }] },
    });
    const generated = await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { generateName: "gen-" } },
    });
    expect(generated.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(await statusOf(core.createNamespacedSecret({ namespace: "missing", body }))).toMatchObject({
      reason: "NotFound",
      message: 'namespaces "missing" not found',
    });
    expect((await core.readNamespace({ name: "hangar-sandboxes" })).status?.phase).toBe("Active");
  });

  it("watches from a resourceVersion: ADDED, MODIFIED, DELETED, BOOKMARK; 410 once compacted", async () => {
    const start = (await core.listNamespacedConfigMap({ namespace: NS })).metadata!.resourceVersion!;
    const events: { type: string; name?: string; rv?: string }[] = [];
    const watch = new Watch(kc);
    const req = await watch.watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: start, allowWatchBookmarks: true, labelSelector: "watched=yes" },
      (type, obj) => events.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion }),
      () => undefined,
    );
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: "w1", labels: { watched: "yes" } } },
    });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "w-other" } } });
    await core.patchNamespacedConfigMap(
      { name: "w1", namespace: NS, body: { data: { a: "1" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ name: "w1", namespace: NS });
    await until(() => events.some((e) => e.type === "BOOKMARK") && events.some((e) => e.type === "DELETED"));
    req.abort();
    const changes = events.filter((e) => e.type !== "BOOKMARK");
    expect(changes.map((e) => `${e.type} ${e.name}`)).toEqual(["ADDED w1", "MODIFIED w1", "DELETED w1"]);
    const rvs = changes.map((e) => Number(e.rv));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);

    // timeoutSeconds ends the stream from the server side.
    const started = Date.now();
    await new Promise<void>((resolve) => {
      void watch.watch(
        `/api/v1/namespaces/${NS}/configmaps`,
        { timeoutSeconds: 1 },
        () => undefined,
        () => resolve(),
      );
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    // A watch from an old version after compaction: HTTP 200 and one ERROR event carrying 410 Expired.
    standIn.expireResourceVersions();
    const errorsSeen: { type: string; obj: any }[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await watch.watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: start },
      (type, obj) => errorsSeen.push({ type, obj }),
      () => done(),
    );
    await finished;
    expect(errorsSeen).toEqual([
      {
        type: "ERROR",
        obj: expect.objectContaining({
          kind: "Status",
          code: 410,
          reason: "Expired",
          message: expect.stringMatching(/too old resource version/),
        }),
      },
    ]);
  });

  it("keeps status and spec apart for sandboxes (status subresource, merge and JSON patches)", async () => {
    const sb = { group: GROUP, version: VERSION, namespace: NS, plural: "sandboxes" };
    const created = await custom.createNamespacedCustomObject({
      ...sb,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "Sandbox",
        metadata: { name: "by-hand" },
        spec: { podTemplate: { spec: { containers: [{ name: "main", image: "busybox" }] } } },
        status: { conditions: [{ type: "Ready", status: "True" }] },
      },
    });
    expect(created.status).toBeUndefined();
    expect(created.metadata.generation).toBe(1);

    const withStatus = await custom.patchNamespacedCustomObjectStatus(
      { ...sb, name: "by-hand", body: { status: { podIPs: ["10.0.0.9"] }, spec: { service: true } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(withStatus.status).toEqual({ podIPs: ["10.0.0.9"] });
    expect(withStatus.spec.service).toBeUndefined();
    expect(withStatus.metadata.generation).toBe(1);

    const specPatched = await custom.patchNamespacedCustomObject(
      { ...sb, name: "by-hand", body: { spec: { operatingMode: "Suspended" }, status: { podIPs: [] } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(specPatched.spec.operatingMode).toBe("Suspended");
    expect(specPatched.status).toEqual({ podIPs: ["10.0.0.9"] });
    expect(specPatched.metadata.generation).toBe(2);

    const jsonPatched = await custom.patchNamespacedCustomObject(
      { ...sb, name: "by-hand", body: [{ op: "replace", path: "/spec/operatingMode", value: "Running" }] },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.spec.operatingMode).toBe("Running");

    const ready = standIn.setCondition({
      kind: "Sandbox",
      name: "by-hand",
      type: "Ready",
      status: "True",
      reason: "DependenciesReady",
    });
    expect(condition(ready, "Ready")).toMatchObject({ status: "True", reason: "DependenciesReady" });
    const listed = await custom.listNamespacedCustomObject({ ...sb, labelSelector: "" });
    expect(listed.items.map((s: any) => s.metadata.name)).toContain("by-hand");
    const deleted = await custom.deleteNamespacedCustomObject({ ...sb, name: "by-hand" });
    expect(deleted.metadata.name).toBe("by-hand");
    expect(standIn.objects("Sandbox", NS)).toEqual([]);
  });

  it("cascades deletes through owner references: background, foreground and orphan", async () => {
    const owner = async (name: string) =>
      core.createNamespacedSecret({ namespace: NS, body: { metadata: { name } } });
    const dependent = async (name: string, o: { metadata?: { name?: string; uid?: string } }) =>
      core.createNamespacedConfigMap({
        namespace: NS,
        body: {
          metadata: {
            name,
            ownerReferences: [
              {
                apiVersion: "v1",
                kind: "Secret",
                name: o.metadata!.name!,
                uid: o.metadata!.uid!,
                blockOwnerDeletion: true,
              },
            ],
          },
        },
      });
    const exists = async (name: string) =>
      (await core.listNamespacedConfigMap({ namespace: NS, fieldSelector: `metadata.name=${name}` })).items
        .length > 0;

    const bg = await owner("own-bg");
    await dependent("dep-bg", bg);
    await core.deleteNamespacedSecret({ name: "own-bg", namespace: NS });
    await until(async () => !(await exists("dep-bg")));

    const fg = await owner("own-fg");
    await dependent("dep-fg", fg);
    await core.deleteNamespacedSecret({ name: "own-fg", namespace: NS, propagationPolicy: "Foreground" });
    await until(async () => !(await exists("dep-fg")));
    await until(() => standIn.objects("Secret", NS).every((s) => s.metadata.name !== "own-fg"));

    const or = await owner("own-or");
    await dependent("dep-or", or);
    await core.deleteNamespacedSecret({ name: "own-or", namespace: NS, propagationPolicy: "Orphan" });
    await until(() => standIn.objects("Secret", NS).every((s) => s.metadata.name !== "own-or"));
    const orphan = await core.readNamespacedConfigMap({ name: "dep-or", namespace: NS });
    expect(orphan.metadata?.ownerReferences).toBeUndefined();
  });

  it("answers SelfSubjectAccessReview, and denies what the deny rules say", async () => {
    const strict = await startKubeStandIn({
      kubelet: false,
      deny: [{ verb: "create", resource: "pods", subresource: "exec" }],
    });
    try {
      const post = (resourceAttributes: Record<string, string>) =>
        fetch(`${strict.url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, {
          method: "POST",
          headers: { Authorization: `Bearer ${strict.token}`, "Content-Type": "application/json" },
          body: JSON.stringify({
            apiVersion: "authorization.k8s.io/v1",
            kind: "SelfSubjectAccessReview",
            spec: { resourceAttributes },
          }),
        }).then((r) => r.json());
      expect(
        (await post({ verb: "create", resource: "pods", subresource: "exec", namespace: NS })).status.allowed,
      ).toBe(false);
      expect((await post({ verb: "get", resource: "pods", namespace: NS })).status.allowed).toBe(true);
    } finally {
      await strict.stop();
    }
  });

  it("records requests and writes a kubeconfig file another process can load", async () => {
    await core.listNamespacedService({ namespace: NS, labelSelector: "x=y" });
    expect(standIn.requests.at(-1)).toMatchObject({
      method: "GET",
      path: `/api/v1/namespaces/${NS}/services`,
      query: { labelSelector: "x=y" },
    });
    const fromFile = new KubeConfig();
    fromFile.loadFromFile(standIn.kubeconfigPath);
    expect(fromFile.getCurrentCluster()?.server).toBe(standIn.url);
    expect((await fromFile.makeApiClient(CoreV1Api).readNamespace({ name: NS })).metadata?.name).toBe(NS);
  });
});

withPods("stand-in API server: pods as real processes", () => {
  let standIn: KubeStandIn;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let kc: KubeConfig;
  let serviceDir: string;
  let service: http.Server;
  const sb = { group: GROUP, version: VERSION, namespace: NS, plural: "sandboxes" };

  beforeAll(async () => {
    serviceDir = fs.mkdtempSync(path.join(os.tmpdir(), "standin-svc-"));
    const socketPath = path.join(serviceDir, "gateway.sock");
    service = http.createServer((_req, res) => res.end("hello from the host service"));
    await new Promise<void>((r) => service.listen(socketPath, () => r()));
    standIn = await startKubeStandIn({ clusterServices: [{ port: 4780, socketPath }] });
    ({ kc, core, custom } = clientsFor(standIn));
  });
  afterAll(async () => {
    await standIn?.stop();
    service?.close();
    fs.rmSync(serviceDir, { recursive: true, force: true });
  });

  const pod = (name: string) => core.readNamespacedPod({ name, namespace: NS });
  const createSandbox = (
    name: string,
    container: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ) =>
    custom.createNamespacedCustomObject({
      ...sb,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "Sandbox",
        metadata: { name },
        spec: {
          podTemplate: {
            metadata: { labels: { "hangar.dev/session": name } },
            spec: {
              restartPolicy: "Never",
              containers: [{ name: "main", image: "harness:1", ...container }],
            },
          },
          ...extra,
        },
      },
    });
  const sandbox = (name: string) => custom.getNamespacedCustomObject({ ...sb, name });

  it("runs a Sandbox: pod with owner reference and labels, headless Service, Ready status; delete cascades", async () => {
    await createSandbox("sb-ready", { command: ["sleep", "300"] }, { service: true });
    const ready = await until(async () => {
      const s = await sandbox("sb-ready");
      return condition(s, "Ready")?.status === "True" ? s : undefined;
    });
    expect(condition(ready, "Ready")).toMatchObject({ reason: "DependenciesReady" });
    expect(condition(ready, "PodScheduled")).toMatchObject({ status: "True" });
    expect(ready.status).toMatchObject({
      podIPs: [expect.stringMatching(/^10\./)],
      selector: `${NAME_HASH_LABEL}=${nameHash("sb-ready")}`,
      service: "sb-ready",
      serviceFQDN: "sb-ready.default.svc.cluster.local",
    });
    const p = await pod("sb-ready");
    expect(p.metadata?.labels).toEqual({
      "hangar.dev/session": "sb-ready",
      [NAME_HASH_LABEL]: nameHash("sb-ready"),
    });
    expect(p.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: "Sandbox",
        name: "sb-ready",
        uid: ready.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      }),
    ]);
    expect(p.status?.phase).toBe("Running");
    expect(p.status?.containerStatuses?.[0]).toMatchObject({
      name: "main",
      ready: true,
      state: { running: {} },
    });
    expect(p.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(
      expect.arrayContaining(["PodScheduled=True", "Initialized=True", "ContainersReady=True", "Ready=True"]),
    );
    const svc = await core.readNamespacedService({ name: "sb-ready", namespace: NS });
    expect(svc.spec).toMatchObject({
      clusterIP: "None",
      selector: { [NAME_HASH_LABEL]: nameHash("sb-ready") },
    });

    await custom.deleteNamespacedCustomObject({ ...sb, name: "sb-ready" });
    await until(() => standIn.objects("Pod", NS).every((o) => o.metadata.name !== "sb-ready"));
    await until(() => standIn.objects("Service", NS).every((o) => o.metadata.name !== "sb-ready"));
  });

  it("execs real processes: stdin, stdout and stderr apart, binary-safe, exit codes as Status", async () => {
    await createSandbox("sb-exec", { command: ["sleep", "300"] });
    await until(async () => condition(await sandbox("sb-exec"), "Ready")?.status === "True");
    const run = async (argv: string[], input?: Buffer) => {
      const out = collector();
      const err = collector();
      const stdin = input === undefined ? null : new PassThrough();
      let status: V1Status | undefined;
      const closed = new Promise<void>((resolve) => {
        void new Exec(kc)
          .exec(NS, "sb-exec", "main", argv, out.stream, err.stream, stdin, false, (s) => (status = s))
          .then((ws) => ws.on("close", () => resolve()));
      });
      if (stdin && input) stdin.end(input);
      await closed;
      return { out: out.buffer(), err: err.text(), status: status! };
    };
    const hello = await run(
      ["sh", "-c", "read line; echo got:$line; echo oops >&2; exit 3"],
      Buffer.from("hello\n"),
    );
    expect(hello.out.toString()).toBe("got:hello\n");
    expect(hello.err).toBe("oops\n");
    expect(hello.status).toMatchObject({
      status: "Failure",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const echoed = await run(["cat"], bytes);
    expect(echoed.out.equals(bytes)).toBe(true);
    expect(echoed.status).toMatchObject({ status: "Success" });
    const inside = await run(["sh", "-c", "id -u; hostname; cat /proc/1/cmdline | tr '\\0' ' '"]);
    expect(inside.out.toString()).toMatch(/^1000\nsandbox\n/);
    await custom.deleteNamespacedCustomObject({ ...sb, name: "sb-exec" });
  });

  it("attaches to a container's main process (stdin: true) and refuses tty exec with a clear error", async () => {
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: "attached" },
        spec: {
          restartPolicy: "Never",
          containers: [
            { name: "main", image: "x", stdin: true, command: ["sh", "-c", "read l; echo echoed:$l"] },
          ],
        },
      },
    });
    await until(async () => (await pod("attached")).status?.phase === "Running");
    const out = collector();
    const input = new PassThrough();
    await new Attach(kc).attach(NS, "attached", "main", out.stream, null, input, false);
    input.write("hi\n");
    await until(() => out.text().includes("echoed:hi"));
    await until(async () => (await pod("attached")).status?.phase === "Succeeded");

    await createSandbox("sb-tty", { command: ["sleep", "300"] });
    await until(async () => condition(await sandbox("sb-tty"), "Ready")?.status === "True");
    const refused = new Exec(kc).exec(NS, "sb-tty", "main", ["sh"], collector().stream, null, null, true);
    await expect(refused).rejects.toBeDefined();
    expect(standIn.requests.at(-1)).toMatchObject({
      path: `/api/v1/namespaces/${NS}/pods/sb-tty/exec`,
      query: { tty: "true" },
    });
    await custom.deleteNamespacedCustomObject({ ...sb, name: "sb-tty" });
  });

  it("port-forwards to a TCP server the pod runs (declared containerPort)", async () => {
    const server =
      "require('net').createServer((s) => s.on('data', (d) => s.end('pong:' + d))).listen(8080, '127.0.0.1')";
    await createSandbox("sb-pf", { command: ["node", "-e", server], ports: [{ containerPort: 8080 }] });
    await until(async () => condition(await sandbox("sb-pf"), "Ready")?.status === "True");
    const reply = await until(async () => {
      const out = collector();
      const input = new PassThrough();
      const ws = await new PortForward(kc).portForward(NS, "sb-pf", [8080], out.stream, null, input);
      input.write("ping");
      await new Promise<void>((resolve) => {
        (ws as unknown as { on: (e: string, f: () => void) => void }).on("close", () => resolve());
        setTimeout(resolve, 2000);
      });
      return out.text().includes("pong:ping") ? out.text() : undefined;
    });
    expect(reply).toBe("pong:ping");
    // The local end of each forward is an ordinary TCP socket to the caller; nothing else listens.
    expect(net.isIP("127.0.0.1")).toBe(4);
    await custom.deleteNamespacedCustomObject({ ...sb, name: "sb-pf" });
  });

  it("streams the container's log (follow until it ends, tailLines, timestamps) and reaches cluster services", async () => {
    await createSandbox("sb-log", {
      command: [
        "sh",
        "-c",
        "for i in 1 2 3; do echo line-$i; sleep 0.3; done; curl -s http://127.0.0.1:4780/; echo",
      ],
    });
    await until(async () => (await pod("sb-log")).status?.phase !== "Pending");
    const out = collector();
    await new Log(kc).log(NS, "sb-log", "main", out.stream, { follow: true });
    await out.ended;
    expect(out.text()).toBe("line-1\nline-2\nline-3\nhello from the host service\n");
    const tail = await core.readNamespacedPodLog({
      name: "sb-log",
      namespace: NS,
      tailLines: 1,
      timestamps: true,
    });
    expect(tail).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z hello from the host service\n$/);

    const done = await until(async () => {
      const s = await sandbox("sb-log");
      return condition(s, "Finished")?.status === "True" ? s : undefined;
    });
    expect(condition(done, "Finished")).toMatchObject({ reason: "PodSucceeded" });
    expect(condition(done, "Ready")).toMatchObject({ status: "False", reason: "PodSucceeded" });
    const p = await pod("sb-log");
    expect(p.status?.phase).toBe("Succeeded");
    expect(p.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: "Completed",
    });
  });

  it("mounts emptyDir and secret volumes, resolves env from secrets, runs init containers first, creates workingDir", async () => {
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: "sb-vol-secret" },
        stringData: { token: "s3cret", "config.json": '{"a":1}' },
      },
    });
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: "vol-pod" },
        spec: {
          restartPolicy: "Never",
          volumes: [
            { name: "work", emptyDir: {} },
            { name: "creds", secret: { secretName: "sb-vol-secret", defaultMode: 0o400 } },
          ],
          initContainers: [
            {
              name: "prep",
              image: "x",
              command: ["sh", "-c", "echo from-init > /srv/work/seed"],
              volumeMounts: [{ name: "work", mountPath: "/srv/work" }],
            },
          ],
          containers: [
            {
              name: "main",
              image: "x",
              workingDir: "/tmp/wd/here",
              command: ["sh", "-c"],
              args: [
                'cat /srv/work/seed; cat /mnt/creds/config.json; echo; stat -c %a /mnt/creds/token; echo "$TOKEN $PLAIN"; pwd; touch /mnt/creds/x 2>/dev/null || echo ro',
              ],
              env: [
                { name: "PLAIN", value: "v" },
                { name: "TOKEN", valueFrom: { secretKeyRef: { name: "sb-vol-secret", key: "token" } } },
              ],
              volumeMounts: [
                { name: "work", mountPath: "/srv/work" },
                { name: "creds", mountPath: "/mnt/creds" },
              ],
            },
          ],
        },
      },
    });
    const done = await until(async () => {
      const p = await pod("vol-pod");
      return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
    });
    const log = await core.readNamespacedPodLog({ name: "vol-pod", namespace: NS, container: "main" });
    expect(log).toBe('from-init\n{"a":1}\n400\ns3cret v\n/tmp/wd/here\nro\n');
    expect(done.status?.phase).toBe("Succeeded");
    expect(done.status?.initContainerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: "Completed",
    });
  });

  it("reports injected failures: image pull, unschedulable, OOM kill; non-zero exit fails the pod", async () => {
    standIn.failImagePull("sb-pull", "manifest unknown");
    standIn.makeUnschedulable("sb-unsched", "0/1 nodes are available: 1 Insufficient memory.");
    await createSandbox("sb-pull", { command: ["sleep", "300"] });
    await createSandbox("sb-unsched", { command: ["sleep", "300"] });
    await createSandbox("sb-oom", { command: ["sleep", "300"] });
    await createSandbox("sb-exit", { command: ["sh", "-c", "exit 4"] });

    const pulled = await until(async () => {
      const p = await pod("sb-pull");
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ImagePullBackOff" ? p : undefined;
    });
    expect(pulled.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(/manifest unknown/);
    expect(condition(await sandbox("sb-pull"), "Ready")).toMatchObject({
      status: "False",
      reason: "DependenciesNotReady",
    });

    const unsched = await until(async () => {
      const s = await sandbox("sb-unsched");
      return condition(s, "PodScheduled") ? s : undefined;
    });
    expect(condition(unsched, "PodScheduled")).toMatchObject({
      status: "False",
      reason: "Unschedulable",
      message: "0/1 nodes are available: 1 Insufficient memory.",
    });
    expect((await pod("sb-unsched")).status?.phase).toBe("Pending");
    const events = await core.listNamespacedEvent({
      namespace: NS,
      fieldSelector: "involvedObject.name=sb-unsched",
    });
    expect(events.items.map((e) => e.reason)).toContain("FailedScheduling");

    await until(async () => condition(await sandbox("sb-oom"), "Ready")?.status === "True");
    standIn.oomKill("sb-oom");
    const oom = await until(async () => {
      const s = await sandbox("sb-oom");
      return condition(s, "Finished")?.status === "True" ? s : undefined;
    });
    expect(condition(oom, "Finished")).toMatchObject({ reason: "PodFailed" });
    expect((await pod("sb-oom")).status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 137,
      reason: "OOMKilled",
    });

    const failed = await until(async () => {
      const p = await pod("sb-exit");
      return p.status?.phase === "Failed" ? p : undefined;
    });
    expect(failed.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 4,
      reason: "Error",
    });
    for (const name of ["sb-pull", "sb-unsched", "sb-oom", "sb-exit"])
      await custom.deleteNamespacedCustomObject({ ...sb, name });
  });

  it("suspends (pod deleted, Ready False/SandboxSuspended), resumes, and deletes at shutdownTime", async () => {
    await createSandbox("sb-susp", { command: ["sleep", "300"] });
    await until(async () => condition(await sandbox("sb-susp"), "Ready")?.status === "True");
    await custom.patchNamespacedCustomObject(
      { ...sb, name: "sb-susp", body: { spec: { operatingMode: "Suspended" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await until(() => standIn.objects("Pod", NS).every((o) => o.metadata.name !== "sb-susp"));
    await until(async () => condition(await sandbox("sb-susp"), "Ready")?.reason === "SandboxSuspended");
    await custom.patchNamespacedCustomObject(
      {
        ...sb,
        name: "sb-susp",
        body: {
          spec: {
            operatingMode: "Running",
            shutdownTime: new Date(Date.now() + 1500).toISOString(),
            shutdownPolicy: "Delete",
          },
        },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await until(async () => condition(await sandbox("sb-susp"), "Ready")?.status === "True");
    await until(() => standIn.objects("Sandbox", NS).every((o) => o.metadata.name !== "sb-susp"));
    await until(() => standIn.objects("Pod", NS).every((o) => o.metadata.name !== "sb-susp"));
  });

  it("deletes pods gracefully: deletionTimestamp while the processes stop, then gone", async () => {
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: "grace" },
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "main", image: "x", command: ["sleep", "300"] }],
        },
      },
    });
    await until(async () => (await pod("grace")).status?.phase === "Running");
    const marked = await core.deleteNamespacedPod({ name: "grace", namespace: NS, gracePeriodSeconds: 1 });
    expect(marked.metadata?.deletionTimestamp).toBeDefined();
    await until(() => standIn.objects("Pod", NS).every((o) => o.metadata.name !== "grace"));
  });
});
