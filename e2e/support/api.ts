import { inject } from "vitest";

export type ApiResult<T = any> = { status: number; body: T; headers: Headers; text: string };

/** Calls the shared test server. `key` defaults to the master key; pass null to send none. */
export async function api<T = any>(
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string; key?: string | null; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const key = opts.key === undefined ? inject("masterKey") : opts.key;
  const headers: Record<string, string> = { ...opts.headers };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let payload: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers["content-type"] = "application/json";
  }
  const res = await fetch(inject("baseUrl") + path, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = null;
  if (text && (res.headers.get("content-type") ?? "").includes("json")) body = JSON.parse(text);
  return { status: res.status, body: body as T, headers: res.headers, text };
}

export const AGENTS = "/api/v1/managed_agents/agents";

export function unique(label = "t"): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function createAgent(fields: Record<string, unknown> = {}) {
  const res = await api("POST", AGENTS, {
    body: { model: "anthropic/claude-sonnet-4-6", name: unique("agent"), ...fields },
  });
  if (res.status !== 201) throw new Error(`create agent failed: ${res.status} ${res.text}`);
  return res.body;
}

export async function createSkill(fields: Record<string, unknown> = {}) {
  const res = await api("POST", "/api/v1/skills", {
    body: { name: unique("skill"), content: "Do the thing.", ...fields },
  });
  if (res.status !== 201) throw new Error(`create skill failed: ${res.status} ${res.text}`);
  return res.body;
}

export function b64(text: string | Buffer): string {
  return Buffer.from(text).toString("base64");
}

/**
 * Calls a server a test started itself (not the shared one), with its master key. `body` is the
 * parsed JSON when the answer is JSON, else null; `text` is always the raw answer.
 */
export async function callServer(
  server: { url: string; masterKey: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string; body: any }> {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${server.masterKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    body: text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : null,
  };
}
