import type { ErrorEnvelope, ErrorIssue } from "@/lib/schemas/common";

/** An API error as the browser sees it: the envelope's code, message and field issues. */
export class ApiClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: ErrorIssue[] = [],
  ) {
    super(message);
  }
}

function toLogin() {
  if (typeof window === "undefined" || window.location.pathname === "/login") return;
  const next = window.location.pathname + window.location.search;
  // A full load, so every cached query and the server layout start from the logged-out state.
  // eslint-disable-next-line @next/next/no-location-assign-relative-destination
  window.location.assign(`/login?next=${encodeURIComponent(next)}`);
}

type ApiInit = RequestInit & { json?: unknown };

/**
 * fetch for the API with the session cookie. A failed request throws an ApiClientError built from
 * the error envelope, whatever the success body would have been; a 401 sends the person to the
 * login page.
 */
async function send(path: string, init: ApiInit): Promise<Response> {
  const { json, headers, ...rest } = init;
  const res = await fetch(path, {
    credentials: "same-origin",
    ...rest,
    headers: { ...(json !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: json !== undefined ? JSON.stringify(json) : rest.body,
  });
  if (res.ok) return res;
  const envelope = (await res.json().catch(() => null)) as ErrorEnvelope | null;
  if (res.status === 401 && !path.startsWith("/api/v1/auth/login")) toLogin();
  throw new ApiClientError(
    res.status,
    envelope?.error?.code ?? "unknown",
    envelope?.error?.message ?? `Request failed (${res.status})`,
    envelope?.error?.issues ?? [],
  );
}

/** An API call that answers JSON (or 204, as undefined). */
export async function apiFetch<T>(path: string, init: ApiInit = {}): Promise<T> {
  const res = await send(path, init);
  if (res.status === 204) return undefined as T;
  return (await res.json().catch(() => null)) as T;
}

/** An API call that answers plain text, such as sandbox_logs; errors as for apiFetch. */
export async function apiFetchText(path: string, init: ApiInit = {}): Promise<string> {
  const res = await send(path, init);
  return res.status === 204 ? "" : res.text();
}

export function queryString(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
