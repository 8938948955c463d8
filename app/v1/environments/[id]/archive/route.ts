import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { archiveEnvironment } from "@/lib/managed/environments";

// POST /v1/environments/{id}/archive – archive an environment
export const POST = handle(op.managedArchiveEnvironment, async ({ params }) =>
  json(await archiveEnvironment(params.id)),
);
