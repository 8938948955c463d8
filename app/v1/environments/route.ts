import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { createEnvironment, listEnvironments } from "@/lib/managed/environments";

// GET /v1/environments – list environments
export const GET = handle(op.managedListEnvironments, async ({ query, principal }) =>
  json(await listEnvironments(query, principal.workspaceId)),
);

// POST /v1/environments – create an environment
export const POST = handle(op.managedCreateEnvironment, async ({ body, principal, audit }) => {
  const environment = await createEnvironment(body, principal.workspaceId);
  audit.detail = { name: environment.name, networking: environment.config.networking.type };
  return json(environment);
});
