import type { ErrorCode } from "@/lib/schemas/common";

import { toErrorReply } from "./errors";

/*
 * The error shape of the Managed Agents facade (/v1/...): Anthropic's envelope,
 * `{"type":"error","error":{"type","message"},"request_id"}`, so its official SDKs raise their typed
 * errors. The status is Hangar's own for the same failure; only the body differs.
 */

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

const TYPE: Record<ErrorCode, AnthropicErrorType> = {
  bad_request: "invalid_request_error",
  validation_failed: "invalid_request_error",
  unauthorized: "authentication_error",
  forbidden: "permission_error",
  not_found: "not_found_error",
  method_not_allowed: "invalid_request_error",
  conflict: "invalid_request_error",
  gone: "not_found_error",
  payload_too_large: "request_too_large",
  upgrade_required: "invalid_request_error",
  too_many_requests: "rate_limit_error",
  internal_error: "api_error",
  bad_gateway: "api_error",
  unavailable: "overloaded_error",
};

export type AnthropicErrorEnvelope = {
  type: "error";
  error: { type: AnthropicErrorType; message: string };
  request_id: string;
};

/**
 * The facade's form of any error a handler throws. A 409 (a stale `version`) carries
 * `x-should-retry: false`: the SDK would otherwise retry it, and the same request can only fail again.
 */
export function toAnthropicErrorReply(
  err: unknown,
  requestId: string,
): { status: number; json: AnthropicErrorEnvelope; headers: Record<string, string> } {
  const { status, json } = toErrorReply(err, requestId);
  const headers: Record<string, string> = { "request-id": requestId };
  if (status === 409) headers["x-should-retry"] = "false";
  return {
    status,
    json: {
      type: "error",
      error: { type: TYPE[json.error.code], message: json.error.message },
      request_id: requestId,
    },
    headers,
  };
}
