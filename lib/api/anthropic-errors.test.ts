import { describe, expect, it } from "vitest";

import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors";

import { toAnthropicErrorReply } from "./anthropic-errors";
import { ApiError } from "./errors";

describe("the Anthropic error envelope", () => {
  it("keeps Hangar's status and names the Anthropic error type", () => {
    const cases: [unknown, number, string][] = [
      [new ValidationError("name: required", []), 400, "invalid_request_error"],
      [new ApiError("unauthorized", "Invalid credentials"), 401, "authentication_error"],
      [new ApiError("forbidden", "needs admin"), 403, "permission_error"],
      [new NotFoundError("agent agt_x not found"), 404, "not_found_error"],
      [new ApiError("payload_too_large", "too big"), 413, "request_too_large"],
      [new ApiError("too_many_requests", "slow down"), 429, "rate_limit_error"],
    ];
    for (const [err, status, type] of cases) {
      const reply = toAnthropicErrorReply(err, "req_1");
      expect(reply.status).toBe(status);
      expect(reply.json).toEqual({
        type: "error",
        error: { type, message: (err as Error).message },
        request_id: "req_1",
      });
      expect(reply.headers["request-id"]).toBe("req_1");
    }
  });

  it("tells the SDK not to retry a conflict", () => {
    const reply = toAnthropicErrorReply(new ConflictError("agent is at version 3, not 2"), "req_2");
    expect(reply.status).toBe(409);
    expect(reply.headers["x-should-retry"]).toBe("false");
  });

  it("never echoes an unexpected error's message", () => {
    const reply = toAnthropicErrorReply(new Error("password=hunter2"), "req_3");
    expect(reply.status).toBe(500);
    expect(reply.json.error.type).toBe("api_error");
    expect(JSON.stringify(reply.json)).not.toContain("hunter2");
  });
});
