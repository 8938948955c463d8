import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { deleteEnvironment, getEnvironment, updateEnvironment } from "@/lib/managed/environments";

// GET /v1/environments/{id} – an environment
export const GET = handle(op.managedGetEnvironment, async ({ params }) =>
  json(await getEnvironment(params.id)),
);

// POST /v1/environments/{id} – update an environment
export const POST = handle(op.managedUpdateEnvironment, async ({ params, body, audit }) => {
  audit.detail = { fields: Object.keys(body).sort() };
  return json(await updateEnvironment(params.id, body));
});

// DELETE /v1/environments/{id} – delete an environment
export const DELETE = handle(op.managedDeleteEnvironment, async ({ params }) =>
  json(await deleteEnvironment(params.id)),
);
