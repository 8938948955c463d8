import type http from "node:http";

import type { ApiFamily } from "./types";

/*
 * Error bodies in each API's own shape, so harnesses classify them as the real service's:
 * Anthropic `{type:"error", error:{type, message}}`, OpenAI `{error:{message, type, code, param}}`.
 */

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

const OPENAI_TYPES: Record<number, { type: string; code: string }> = {
  400: { type: "invalid_request_error", code: "invalid_request" },
  401: { type: "invalid_request_error", code: "invalid_api_key" },
  403: { type: "invalid_request_error", code: "permission_denied" },
  404: { type: "invalid_request_error", code: "not_found" },
  405: { type: "invalid_request_error", code: "method_not_allowed" },
  429: { type: "requests", code: "rate_limit_exceeded" },
};

/** Seconds a 429 asks the client to wait; short, because its only use is testing retries. */
export const RETRY_AFTER_SECONDS = 1;

export function errorBody(family: ApiFamily, status: number, message: string): object {
  if (family === "anthropic") {
    const type = ANTHROPIC_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
    return { type: "error", error: { type, message } };
  }
  const known = OPENAI_TYPES[status] ?? {
    type: status >= 500 ? "server_error" : "invalid_request_error",
    code: status >= 500 ? "server_error" : "invalid_request",
  };
  return { error: { message, type: known.type, code: known.code, param: null } };
}

export function sendError(res: http.ServerResponse, family: ApiFamily, status: number, message: string) {
  const headers: http.OutgoingHttpHeaders = { "content-type": "application/json" };
  if (status === 429) {
    headers["retry-after"] = String(RETRY_AFTER_SECONDS);
    headers["retry-after-ms"] = String(RETRY_AFTER_SECONDS * 1000);
  }
  if (family === "anthropic") headers["request-id"] = `req_hangar_${Date.now().toString(36)}`;
  res.writeHead(status, headers);
  res.end(JSON.stringify(errorBody(family, status, message)));
}

/** Error raised while reading a request; the router turns it into the API's error body. */
export class BuiltinModelError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "BuiltinModelError";
  }
}
