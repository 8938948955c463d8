/*
 * What the model endpoint forwards, and where to. The sandbox names a request target; only a plain
 * relative path from a short allow-list of model APIs is ever forwarded, and the upstream URL is
 * built from LITELLM_API_BASE plus that path, never from anything else the request says.
 *
 * Refused with 400 before anything else (the request is malformed or an attempt to steer it):
 * a target that is not origin-form (`http://…`, `host:port`, `*`), `//`, a backslash, a dot-segment,
 * a percent-encoded dot, slash, backslash or percent (so `%2e%2e`, `%2f`, `%5c`, `%252e`), control
 * or non-ASCII characters, a malformed escape, and a Host that is not the endpoint's own.
 * Not on the allow-list: 404 (wrong method: 405). The query string is passed on as it is when its
 * characters are plain and its escapes well formed (an encoded `/` is fine there: a client's
 * URLSearchParams writes one); it goes into the URL's search part, so it cannot change the path.
 *
 * The allow-list, each with or without `/v1` (LiteLLM serves both):
 *   POST chat/completions (opencode)   POST responses (Codex)   POST embeddings
 *   POST messages, POST messages/count_tokens (Claude Code, Claude Agent SDK)
 *   GET  models, GET models/<id>
 * and, without `/v1`, the MCP servers Hangar hands out (lib/harness/mcp.ts): `mcp/<id>` with GET,
 * POST and DELETE, which is all streamable HTTP uses (one URL: POST messages, GET the server's
 * stream, DELETE the MCP session).
 */

export type ModelApi = "chat" | "responses" | "messages" | "count_tokens" | "models" | "embeddings" | "mcp";

export type ModelTarget = {
  api: ModelApi;
  /** Relative to the gateway's base, no leading slash: `v1/chat/completions`, `mcp/github`. */
  path: string;
  /** `?…` or "". */
  search: string;
};

export type TargetRefusal = { status: 400 | 404 | 405; message: string; allow?: string };

const MAX_TARGET_LENGTH = 4096;
/** A path segment: unreserved and sub-delim characters, `:` `@`, and percent escapes. */
const SEGMENT = /^(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+$/;
/** Printable ASCII except space, `\`, `#` (and so no control, DEL or non-ASCII character). */
const PLAIN = /^[\x21-\x22\x24-\x5b\x5d-\x7e]*$/;
const ESCAPE = /%(?:[0-9A-Fa-f]{2})?/g;
/** Characters that must never arrive percent-encoded: they could turn into path structure. */
const STRUCTURAL = new Set([".", "/", "\\", "%"]);

type Route = { api: ModelApi; methods: string[]; pattern: RegExp };

const ROUTES: Route[] = [
  { api: "chat", methods: ["POST"], pattern: /^(?:v1\/)?chat\/completions$/ },
  { api: "responses", methods: ["POST"], pattern: /^(?:v1\/)?responses$/ },
  { api: "messages", methods: ["POST"], pattern: /^(?:v1\/)?messages$/ },
  { api: "count_tokens", methods: ["POST"], pattern: /^(?:v1\/)?messages\/count_tokens$/ },
  { api: "models", methods: ["GET"], pattern: /^(?:v1\/)?models(?:\/[^/]+)?$/ },
  { api: "embeddings", methods: ["POST"], pattern: /^(?:v1\/)?embeddings$/ },
  { api: "mcp", methods: ["GET", "POST", "DELETE"], pattern: /^mcp\/[^/]+\/?$/ },
];

const bad = (message: string): TargetRefusal => ({ status: 400, message });

/**
 * Percent escapes are well formed and none encodes a control character, nor (in the path) a
 * character that could become path structure once some server decodes it.
 */
function escapesProblem(text: string, inPath: boolean): string | null {
  for (const [escape] of text.matchAll(ESCAPE)) {
    if (escape.length !== 3) return "a malformed percent escape";
    const code = parseInt(escape.slice(1), 16);
    const char = String.fromCharCode(code);
    if (code < 0x20 || code === 0x7f) return "an encoded control character";
    if (inPath && STRUCTURAL.has(char)) return `an encoded ${JSON.stringify(char)} in the path`;
  }
  return null;
}

/**
 * Checks the request target's form (origin-form, a clean path, a plain query). Returns the path
 * without its leading slash and the search part, or why it is refused (400).
 */
export function checkTargetForm(raw: string): { path: string; search: string } | TargetRefusal {
  if (raw.length > MAX_TARGET_LENGTH) return bad("the request target is too long");
  if (!raw.startsWith("/") || raw.startsWith("//"))
    return bad("the request target must be a path (absolute-form and authority-form are refused)");
  if (!PLAIN.test(raw))
    return bad("the request target holds a space, backslash, fragment, control or non-ASCII character");
  const mark = raw.indexOf("?");
  const path = mark < 0 ? raw : raw.slice(0, mark);
  const search = mark < 0 ? "" : raw.slice(mark);
  if (path.includes("//")) return bad("the path holds an empty segment (//)");
  const segments = path.slice(1).split("/");
  for (const [index, segment] of segments.entries()) {
    if (segment === "" && index === segments.length - 1) continue;
    if (segment === "." || segment === "..") return bad("the path holds a dot-segment");
    if (!SEGMENT.test(segment)) return bad("the path holds a character that is not allowed");
  }
  const problem = escapesProblem(path, true) ?? escapesProblem(search, false);
  if (problem) return bad(`the request target holds ${problem}`);
  return { path: path.slice(1), search };
}

/** The allowed API a checked path is, or why not (404, or 405 with the methods that would do). */
export function routeOf(method: string, path: string): ModelApi | TargetRefusal {
  const route = ROUTES.find((r) => r.pattern.test(path));
  if (!route) return { status: 404, message: `the model endpoint does not forward /${path}` };
  if (!route.methods.includes(method)) {
    const allow = route.methods.join(", ");
    return { status: 405, message: `${method} is not allowed here; use ${allow}`, allow };
  }
  return route.api;
}

/** Both checks in order: the target's form (400), then the allow-list (404/405). */
export function checkModelTarget(method: string, raw: string): ModelTarget | TargetRefusal {
  const form = checkTargetForm(raw);
  if ("status" in form) return form;
  const api = routeOf(method, form.path);
  if (typeof api !== "string") return api;
  return { api, ...form };
}

export function isRefusal(value: object): value is TargetRefusal {
  return "status" in value;
}

const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/;

/** The host name of a Host header (lower case, IPv6 in brackets), or null when it is malformed. */
export function hostNameOf(header: string | undefined): string | null {
  const match = HOST.exec((header ?? "").toLowerCase());
  if (!match) return null;
  if (match[2] !== undefined && Number(match[2]) > 65535) return null;
  return match[1]!.replace(/\.$/, "");
}

export const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

/**
 * The names the shared endpoint (gateway role) answers to: the in-cluster name sandboxes are given
 * (HANGAR_K8S_GATEWAY_HOST) and the shorter forms cluster DNS resolves too (`svc`, `svc.ns`,
 * `svc.ns.svc`), plus loopback for a gateway reached on its own machine.
 */
export function sharedEndpointNames(gatewayHost: string): string[] {
  const name = gatewayHost.toLowerCase().replace(/\.$/, "");
  const labels = name.split(".");
  const short = labels[2] === "svc" ? [0, 1, 2].map((n) => labels.slice(0, n + 1).join(".")) : [];
  return [...new Set([name, ...short, ...LOOPBACK_NAMES])];
}

/**
 * The upstream URL: the base's origin and path plus the checked relative path and search. Throws
 * unless the result is still under the base (same origin, path below the base's path), which the
 * checks above already guarantee; the key is only ever added after this.
 */
export function upstreamUrl(base: string, target: Pick<ModelTarget, "path" | "search">): URL {
  const root = new URL(base);
  const basePath = root.pathname.replace(/\/+$/, "");
  const url = new URL(root.href);
  url.pathname = `${basePath}/${target.path}`;
  url.search = target.search;
  url.hash = "";
  if (url.origin !== root.origin || !url.pathname.startsWith(`${basePath}/`)) {
    throw new Error(`the upstream URL ${url.pathname} left the gateway's base`);
  }
  return url;
}
