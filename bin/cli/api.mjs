// @ts-check
// The public REST API (README "API"): requests with the Bearer key, the error envelope turned into
// ApiError, pagination, and finding an agent by name or id.

import { ApiError, CliError } from "./errors.mjs";
import { err, localTime } from "./output.mjs";

/** @typedef {import("./config.mjs").Config} Config */
/** @typedef {import("../../lib/schemas/agent").AgentListItem} Agent */
/** @typedef {import("../../lib/schemas/session").Session} Session */

export const API = "/api/v1/managed_agents";

/**
 * Sends one request; resolves with the JSON body (the caller names its type), throws ApiError for
 * an error answer and CliError when the server cannot be reached or answers something else.
 * @template [T=unknown]
 * @param {Config} config
 * @param {string} method
 * @param {string} route
 * @param {{ body?: unknown, query?: Record<string, string | number | null | undefined> }} [options]
 * @returns {Promise<T>}
 */
export async function request(config, method, route, { body, query } = {}) {
  const url = new URL(config.url + (route.startsWith("/api/") ? route : API + route));
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
  }
  /** @type {Record<string, string>} */
  const headers = { ...credentialHeaders(config), accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (e) {
    const error =
      /** @type {{ message?: string, cause?: { code?: string, message?: string } } | undefined} */ (e);
    const cause = error?.cause?.code || error?.cause?.message || error?.message || String(e);
    throw new CliError(`Cannot reach Hangar at ${config.url} (${cause})`);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw errorFromAnswer(config, res, data);
  if (data === null && text) throw new CliError(`${config.url} answered with something that is not JSON`);
  return data;
}

/**
 * What an error answer may hold (the envelope of lib/schemas/common.ts); nothing of it is trusted.
 * @typedef {object} ErrorBody
 * @property {string} [code]
 * @property {unknown} [message]
 * @property {{ path?: unknown[], message?: string }[]} [issues]
 */

/**
 * How a request proves who it is: the key as a Bearer token, or a user's login cookie with this
 * server as its Origin (Hangar checks the Origin of cookie-carried changes).
 * @param {Config} config
 * @returns {Record<string, string>}
 */
export function credentialHeaders(config) {
  if (config.key) return { authorization: `Bearer ${config.key}` };
  return config.cookie ? { cookie: config.cookie, origin: config.url } : {};
}

/**
 * The ApiError for an error answer: the envelope's message and issues, or the HTTP status.
 * @param {Config} config
 * @param {Response} res
 * @param {{ error?: ErrorBody } | null} data the parsed body
 */
function errorFromAnswer(config, res, data) {
  const envelope = data && typeof data === "object" ? data.error : null;
  const message =
    envelope && typeof envelope.message === "string"
      ? envelope.message
      : `${res.status} ${res.statusText || "error"}`;
  const issues = Array.isArray(envelope?.issues)
    ? envelope.issues.map((i) => `\n  ${(i.path ?? []).join(".") || "(body)"}: ${i.message}`).join("")
    : "";
  if (res.status === 401) {
    return new ApiError(
      401,
      "unauthorized",
      config.key
        ? `Hangar at ${config.url} refused the key (401: ${message}). Run \`hangar login\` with a valid key.`
        : `Hangar at ${config.url} ended this login (401: ${message}). Run \`hangar login --email\` again.`,
    );
  }
  return new ApiError(res.status, envelope?.code ?? "error", message + issues);
}

/**
 * Every item of a paginated list, up to `max`.
 * @template T
 * @param {Config} config
 * @param {string} route
 * @param {Record<string, string | undefined>} [query]
 * @param {number} [max]
 * @returns {Promise<T[]>}
 */
export async function listAll(config, route, query = {}, max = Infinity) {
  /** @type {T[]} */
  const items = [];
  for (;;) {
    const limit = Math.min(200, max - items.length);
    if (limit <= 0) break;
    /** @type {{ data?: T[], total?: number } | null} */
    const page = await request(config, "GET", route, { query: { ...query, limit, offset: items.length } });
    const data = Array.isArray(page?.data) ? page.data : [];
    items.push(...data);
    if (data.length === 0 || items.length >= (page?.total ?? 0)) break;
  }
  return items;
}

/**
 * @param {Config} config
 * @param {string} id
 * @returns {Promise<Session>}
 */
export async function getSession(config, id) {
  return request(config, "GET", `/sessions/${encodeURIComponent(id)}`);
}

/**
 * An agent by id or exact name; searches every page of `GET /agents?search=`.
 * @param {Config} config
 * @param {string} ref
 * @returns {Promise<Agent>}
 */
export async function resolveAgent(config, ref) {
  /** @type {Agent[]} */
  const found = await listAll(config, "/agents", { search: ref });
  const byId = found.find((a) => a.id === ref);
  if (byId) return byId;
  let named = found.filter((a) => a.name === ref);
  if (named.length === 0) named = found.filter((a) => (a.name ?? "").toLowerCase() === ref.toLowerCase());
  if (named.length === 1 && named[0]) return named[0];
  if (named.length > 1) {
    err(`"${ref}" names ${named.length} agents; use an id:`);
    const rows = named.map((a) => [a.name ?? "", a.id, a.harness_id, a.model, localTime(a.created_at)]);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
    for (const r of rows) err("  " + r.map((c, i) => (i < 4 ? c.padEnd(widths[i] ?? 0) : c)).join("  "));
    throw new CliError("", 2);
  }
  const similar = found.slice(0, 5).map((a) => `  ${a.name ?? "(unnamed)"}  ${a.id}`);
  throw new CliError(
    `No agent named or with id "${ref}".` +
      (similar.length ? `\nSimilar:\n${similar.join("\n")}` : "\nList them with: hangar agents"),
  );
}
