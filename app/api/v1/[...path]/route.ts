import { NotFoundError } from "@/lib/api/errors";
import { handle } from "@/lib/api/handler";
import { defineOperation } from "@/lib/api/operation";

// Unknown /api/v1 paths: authenticate first (so nothing is revealed to strangers), then 404.
const unknownRoute = defineOperation({
  id: "unknownRoute",
  method: "GET",
  path: "/api/v1/{path}",
  tag: "Platform",
  summary: "No such route",
  responses: {},
});

const notFound = handle(unknownRoute, async ({ req }) => {
  throw new NotFoundError(`no route for ${req.method} ${new URL(req.url).pathname}`);
});

export { notFound as GET, notFound as POST, notFound as PATCH, notFound as PUT, notFound as DELETE };
