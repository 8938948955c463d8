import type { IncomingMessage, ServerResponse } from "node:http";

import {
  apiVersionOf,
  findType,
  RESOURCE_TYPES,
  SANDBOX_GROUP,
  SANDBOX_VERSION,
  type ResourceType,
} from "./resources";
import { parseFieldSelector, parseLabelSelector, type KubeObject } from "./selectors";
import { errors, StatusError, successStatus, type V1Status } from "./status";
import type { Store, StoreEvent } from "./store";

/*
 * The REST side of the stand-in API server: discovery, CRUD + watch on the served types, the status
 * subresource, pod logs and SelfSubjectAccessReview. WebSocket subresources (exec, attach, portforward)
 * are upgraded in ws.ts.
 */

export type RecordedRequest = {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  contentType: string | undefined;
  body: unknown;
};

/** What a denied action looks like to SelfSubjectAccessReview and to the request itself (403). */
export type DenyRule = { verb: string; resource: string; subresource?: string };

export type LogOptions = {
  container?: string;
  follow: boolean;
  tailLines?: number;
  timestamps: boolean;
  sinceSeconds?: number;
};

export type LogSource = {
  /** Writes the log to `res` (ending it unless following); throws a StatusError when it cannot. */
  streamLogs(pod: KubeObject, options: LogOptions, res: ServerResponse, req: IncomingMessage): void;
};

export type ApiContext = {
  store: Store;
  token: string;
  crds: boolean;
  deny: DenyRule[];
  requests: RecordedRequest[];
  bookmarkIntervalMs: number;
  logs?: LogSource;
};

export type ParsedPath = {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
};

const VERSION = {
  major: "1",
  minor: "31",
  gitVersion: "v1.31.0-hangar-standin",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "n/a (stand-in API server)",
  compiler: "n/a",
  platform: "linux/amd64",
};

export function sendJson(res: ServerResponse, code: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: V1Status) {
  sendJson(res, status.code, status);
}

export function isAuthorized(ctx: ApiContext, req: IncomingMessage): boolean {
  return req.headers.authorization === `Bearer ${ctx.token}`;
}

export function servedTypes(ctx: ApiContext): ResourceType[] {
  return RESOURCE_TYPES.filter((t) => ctx.crds || t.group !== SANDBOX_GROUP);
}

/** `/api/v1/namespaces/ns/pods/name/log` → pods, ns, name, log. Undefined when it names no resource. */
export function parseResourcePath(ctx: ApiContext, pathname: string): ParsedPath | undefined {
  const seg = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (seg[0] === "api") [group, version, rest] = ["", seg[1], seg.slice(2)];
  else if (seg[0] === "apis") [group, version, rest] = [seg[1] ?? "", seg[2], seg.slice(3)];
  else return undefined;
  if (!version || rest.length === 0) return undefined;
  const served = (plural: string | undefined) =>
    plural === undefined ? undefined : servedTypes(ctx).find((t) => t === findType(group, version!, plural));
  if (rest[0] === "namespaces" && rest.length >= 3) {
    const type = served(rest[2]);
    if (type?.namespaced && rest.length <= 5) {
      return { type, namespace: rest[1], name: rest[3], subresource: rest[4] };
    }
  }
  const type = served(rest[0]);
  if (!type || rest.length > 3) return undefined;
  // A namespaced type without a namespace: only a list or watch across all namespaces.
  if (type.namespaced && rest.length > 1) return undefined;
  return { type, name: rest[1], subresource: rest[2] };
}

function verbOf(method: string, parsed: ParsedPath, watch: boolean): string {
  if (parsed.subresource && ["log", "exec", "attach", "portforward"].includes(parsed.subresource)) {
    return method === "POST" ? "create" : "get";
  }
  switch (method) {
    case "GET":
      return parsed.name ? "get" : watch ? "watch" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return parsed.name ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

export function isDenied(ctx: ApiContext, verb: string, resource: string, subresource?: string): boolean {
  return ctx.deny.some(
    (d) =>
      (d.verb === "*" || d.verb === verb) &&
      (d.resource === "*" || d.resource === resource) &&
      (d.subresource ?? "") === (subresource ?? ""),
  );
}

/** Core types' list items carry no kind/apiVersion on the wire; custom resources keep theirs. */
function listOf(type: ResourceType, items: KubeObject[], rv: number) {
  const builtin = type.group !== SANDBOX_GROUP;
  return {
    kind: `${type.kind}List`,
    apiVersion: apiVersionOf(type),
    metadata: { resourceVersion: String(rv) },
    items: builtin ? items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest) : items,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    query[key] = all.length === 1 ? all[0]! : all;
  }
  return query;
}

export function recordRequest(ctx: ApiContext, req: IncomingMessage, url: URL, body: unknown) {
  ctx.requests.push({
    method: req.method ?? "GET",
    path: url.pathname,
    query: queryOf(url),
    contentType: req.headers["content-type"],
    body,
  });
}

export async function handleRequest(ctx: ApiContext, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://stand-in");
  const text = req.method === "GET" || req.method === "HEAD" ? "" : await readBody(req);
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  recordRequest(ctx, req, url, body);
  try {
    if (!isAuthorized(ctx, req)) throw errors.unauthorized();
    if (typeof body === "string")
      throw errors.badRequest(`the request body is not JSON: ${body.slice(0, 80)}`);
    route(ctx, req, res, url, body);
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof StatusError) sendStatus(res, err.status);
    else sendStatus(res, errors.internal((err as Error).message).status);
  }
}

function route(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, url: URL, body: any) {
  const p = url.pathname.replace(/\/+$/, "") || "/";
  const method = req.method ?? "GET";
  if (method === "GET" && discovery(ctx, p, res)) return;
  if (p === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" && method === "POST") {
    const attrs = body?.spec?.resourceAttributes ?? {};
    const denied = isDenied(ctx, attrs.verb ?? "", attrs.resource ?? "", attrs.subresource);
    sendJson(res, 201, {
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec: body?.spec ?? {},
      status: denied
        ? { allowed: false, denied: true, reason: "denied by the stand-in API server's deny rules" }
        : { allowed: true, reason: "the stand-in API server allows everything not denied" },
    });
    return;
  }
  const parsed = parseResourcePath(ctx, p);
  if (!parsed) throw errors.noSuchResource();
  const { type, namespace, name, subresource } = parsed;
  const watch = url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1";
  const verb = verbOf(method, parsed, watch);
  const sub =
    subresource && ["status", "log", "exec", "attach", "portforward"].includes(subresource)
      ? subresource
      : undefined;
  if (subresource && (!sub || !(type.subresources ?? []).includes(sub))) throw errors.noSuchResource();
  if (isDenied(ctx, verb, type.plural, sub)) throw errors.forbidden(type, name ?? "", verb, namespace);

  if (sub === "log") {
    if (method !== "GET") throw errors.methodNotAllowed();
    const pod = ctx.store.get(type, namespace, name!);
    if (!ctx.logs) throw errors.badRequest(`pod ${name} has no node: the stand-in runs without a kubelet`);
    const num = (key: string) => (url.searchParams.has(key) ? Number(url.searchParams.get(key)) : undefined);
    ctx.logs.streamLogs(
      pod,
      {
        container: url.searchParams.get("container") ?? undefined,
        follow: url.searchParams.get("follow") === "true",
        tailLines: num("tailLines"),
        timestamps: url.searchParams.get("timestamps") === "true",
        sinceSeconds: num("sinceSeconds"),
      },
      res,
      req,
    );
    return;
  }
  if (sub === "exec" || sub === "attach" || sub === "portforward") {
    ctx.store.get(type, namespace, name!);
    throw errors.badRequest("Upgrade request required");
  }
  const status = sub === "status" ? ("status" as const) : undefined;

  if (!name) {
    const labels = parseLabelSelector(url.searchParams.get("labelSelector"));
    const fields = parseFieldSelector(url.searchParams.get("fieldSelector"));
    if (method === "GET" && watch) return startWatch(ctx, req, res, url, type, namespace, labels, fields);
    if (method === "GET") {
      return sendJson(
        res,
        200,
        listOf(type, ctx.store.list(type, namespace, labels, fields), ctx.store.resourceVersion),
      );
    }
    if (method === "POST") return sendJson(res, 201, ctx.store.create(type, namespace, body));
    if (method === "DELETE") {
      const items = ctx.store.list(type, namespace, labels, fields);
      for (const item of items)
        ctx.store.delete(type, namespace, item.metadata.name!, deleteOptions(url, body));
      return sendJson(res, 200, listOf(type, items, ctx.store.resourceVersion));
    }
    throw errors.methodNotAllowed();
  }
  switch (method) {
    case "GET":
      return sendJson(res, 200, ctx.store.get(type, namespace, name));
    case "PUT":
      return sendJson(res, 200, ctx.store.update(type, namespace, name, body, status));
    case "PATCH":
      return sendJson(
        res,
        200,
        ctx.store.patch(
          type,
          namespace,
          name,
          (req.headers["content-type"] ?? "").split(";")[0]!.trim(),
          body,
          status,
        ),
      );
    case "DELETE": {
      if (status) throw errors.methodNotAllowed();
      const result = ctx.store.delete(type, namespace, name, deleteOptions(url, body));
      if (type.returnsDeletedObject) return sendJson(res, 200, result);
      return sendJson(res, 200, successStatus(type, name, result.metadata.uid!));
    }
    default:
      throw errors.methodNotAllowed();
  }
}

function deleteOptions(url: URL, body: any) {
  const policy = url.searchParams.get("propagationPolicy") ?? body?.propagationPolicy ?? undefined;
  if (policy !== undefined && !["Background", "Foreground", "Orphan"].includes(policy)) {
    throw errors.badRequest(`invalid propagationPolicy: ${policy}`);
  }
  const grace = url.searchParams.get("gracePeriodSeconds") ?? body?.gracePeriodSeconds;
  return {
    propagationPolicy: policy,
    gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace),
  };
}

function startWatch(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  type: ResourceType,
  namespace: string | undefined,
  labels: (o: KubeObject) => boolean,
  fields: (o: KubeObject) => boolean,
) {
  const store = ctx.store;
  const rvParam = url.searchParams.get("resourceVersion");
  const matches = (o: KubeObject) =>
    (namespace === undefined || o.metadata.namespace === namespace) && labels(o) && fields(o);
  const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
  const write = (eventType: string, object: unknown) =>
    res.write(JSON.stringify({ type: eventType, object }) + "\n");

  let backlog: StoreEvent[] = [];
  const initial = !rvParam || rvParam === "0" ? store.list(type, namespace, labels, fields) : [];
  if (rvParam && rvParam !== "0") {
    const rv = Number(rvParam);
    if (!Number.isInteger(rv) || rv < 0) throw errors.badRequest(`invalid resource version: ${rvParam}`);
    try {
      backlog = store.eventsSince(type, rv);
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
      // The real server answers 200 and sends the 410 as an ERROR event.
      res.writeHead(200, { "Content-Type": "application/json" });
      write("ERROR", err.status);
      res.end();
      return;
    }
  }
  const known = new Set<string>(
    (initial.length > 0 ? initial : store.list(type, namespace, labels, fields)).map(keyOf),
  );
  if (backlog.length > 0) for (const e of backlog) if (e.type === "ADDED") known.delete(keyOf(e.object));

  res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
  const send = (e: StoreEvent) => {
    const key = keyOf(e.object);
    const was = known.has(key);
    const is = e.type !== "DELETED" && matches(e.object);
    if (e.type === "DELETED") {
      if (was || matches(e.object)) write("DELETED", e.object);
      known.delete(key);
    } else if (is) {
      write(was ? "MODIFIED" : "ADDED", e.object);
      known.add(key);
    } else if (was) {
      write("DELETED", e.object);
      known.delete(key);
    }
  };
  for (const obj of initial) write("ADDED", obj);
  for (const e of backlog) send(e);
  const listener = (e: StoreEvent) => {
    if (e.resource === type) send(e);
  };
  store.on("event", listener);

  const bookmarks = url.searchParams.get("allowWatchBookmarks") === "true";
  const bookmark = (extra: Record<string, string> = {}) =>
    write("BOOKMARK", {
      kind: type.kind,
      apiVersion: apiVersionOf(type),
      metadata: {
        resourceVersion: String(store.resourceVersion),
        ...(Object.keys(extra).length > 0 && { annotations: extra }),
      },
    });
  if (bookmarks && url.searchParams.get("sendInitialEvents") === "true")
    bookmark({ "k8s.io/initial-events-end": "true" });
  const timers: NodeJS.Timeout[] = [];
  if (bookmarks) timers.push(setInterval(() => bookmark(), ctx.bookmarkIntervalMs));
  const timeout = Number(url.searchParams.get("timeoutSeconds") ?? 0);
  if (timeout > 0) timers.push(setTimeout(() => res.end(), timeout * 1000));
  const stop = () => {
    store.off("event", listener);
    for (const t of timers) clearTimeout(t);
  };
  res.on("close", stop);
  req.on("close", stop);
}

function discovery(ctx: ApiContext, p: string, res: ServerResponse): boolean {
  const types = servedTypes(ctx);
  const groups = [
    { name: "networking.k8s.io", version: "v1" },
    { name: "authorization.k8s.io", version: "v1" },
    ...(ctx.crds ? [{ name: SANDBOX_GROUP, version: SANDBOX_VERSION }] : []),
  ];
  const groupBody = (g: { name: string; version: string }) => ({
    kind: "APIGroup",
    apiVersion: "v1",
    name: g.name,
    versions: [{ groupVersion: `${g.name}/${g.version}`, version: g.version }],
    preferredVersion: { groupVersion: `${g.name}/${g.version}`, version: g.version },
  });
  const resourceList = (group: string, version: string) => {
    const resources = types
      .filter((t) => t.group === group && t.version === version)
      .flatMap((t) => [
        {
          name: t.plural,
          singularName: t.singular,
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: t.verbs,
          ...(t.shortNames && { shortNames: t.shortNames }),
        },
        ...(t.subresources ?? []).map((s) => ({
          name: `${t.plural}/${s}`,
          singularName: "",
          namespaced: t.namespaced,
          kind:
            s === "status" ? t.kind : s === "log" ? "Pod" : `Pod${s[0]!.toUpperCase()}${s.slice(1)}Options`,
          verbs: s === "status" ? ["get", "patch", "update"] : s === "log" ? ["get"] : ["create", "get"],
        })),
      ]);
    if (group === "authorization.k8s.io") {
      resources.push({
        name: "selfsubjectaccessreviews",
        singularName: "selfsubjectaccessreview",
        namespaced: false,
        kind: "SelfSubjectAccessReview",
        verbs: ["create"],
      });
    }
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: group ? `${group}/${version}` : version,
      resources,
    };
  };
  if (p === "/version") sendJson(res, 200, VERSION);
  else if (p === "/healthz" || p === "/readyz" || p === "/livez") {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("ok");
  } else if (p === "/api") {
    sendJson(res, 200, {
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
    });
  } else if (p === "/api/v1") sendJson(res, 200, resourceList("", "v1"));
  else if (p === "/apis")
    sendJson(res, 200, { kind: "APIGroupList", apiVersion: "v1", groups: groups.map(groupBody) });
  else {
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(p);
    const g = m && groups.find((x) => x.name === m[1]);
    if (!m) return false;
    if (!g || (m[2] && m[2] !== g.version)) throw errors.noSuchResource();
    sendJson(res, 200, m[2] ? resourceList(g.name, g.version) : groupBody(g));
  }
  return true;
}
