import { NotFoundError } from "@/lib/errors";

import { ApiError } from "./errors";
import { handle } from "./handler";
import { defineOperation } from "./operation";

// Paths and methods no operation answers. Authentication still comes first, so a stranger learns
// nothing about which routes exist.
const fallback = (id: string) =>
  defineOperation({ id, method: "GET", path: "/api/v1/{path}", tag: "Platform", summary: id, responses: {} });

export const notFoundRoute = handle(fallback("unknownRoute"), async ({ req }) => {
  throw new NotFoundError(`no route for ${req.method} ${new URL(req.url, "http://x").pathname}`);
});

export function methodNotAllowedRoute(allowed: string[]) {
  return handle(fallback("methodNotAllowed"), async ({ req }) => {
    const error = new ApiError(
      "method_not_allowed",
      `${req.method} is not supported here; use ${allowed.join(", ")}`,
    );
    throw error;
  });
}
