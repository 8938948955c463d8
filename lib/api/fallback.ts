import { NotFoundError } from "@/lib/errors";

import { ApiError } from "./errors";
import { handle } from "./handler";
import { defineOperation } from "./operation";

// Paths and methods no operation answers. Authentication still comes first, so a stranger learns
// nothing about which routes exist.
// The Managed Agents facade (/v1/...) answers them in Anthropic's error envelope.
const fallback = (id: string, facade: boolean) =>
  defineOperation({
    id,
    method: "GET",
    path: facade ? "/v1/{path}" : "/api/v1/{path}",
    tag: "Platform",
    summary: id,
    responses: {},
    ...(facade ? { envelope: "anthropic" as const } : {}),
  });

const unknownRoute = (facade: boolean) =>
  handle(fallback("unknownRoute", facade), async ({ req }) => {
    throw new NotFoundError(`no route for ${req.method} ${new URL(req.url, "http://x").pathname}`);
  });

export const notFoundRoute = unknownRoute(false);
export const facadeNotFoundRoute = unknownRoute(true);

export function methodNotAllowedRoute(allowed: string[], facade = false) {
  return handle(fallback("methodNotAllowed", facade), async ({ req }) => {
    const error = new ApiError(
      "method_not_allowed",
      `${req.method} is not supported here; use ${allowed.join(", ")}`,
    );
    throw error;
  });
}
