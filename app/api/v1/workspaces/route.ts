import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { recordAudit } from "@/lib/teams/audit";
import { createWorkspace, workspacesOf } from "@/lib/teams/service";

// GET /api/v1/workspaces – the workspaces the caller can work in
export const GET = handle(op.listWorkspaces, async ({ principal }) =>
  json({ data: await workspacesOf(principal) }),
);

// POST /api/v1/workspaces – create a workspace; a user who creates one is its admin
export const POST = handle(op.createWorkspace, async ({ principal, body, audit }) => {
  const workspace = await createWorkspace(principal, body.name);
  // The entry belongs to the new workspace: its log starts with its own creation.
  audit.skip = true;
  await recordAudit({
    workspaceId: workspace.id,
    actor: principal.actor,
    action: "workspace.create",
    resourceType: "workspace",
    resourceId: workspace.id,
    detail: { name: workspace.name },
  });
  return json(workspace, 201);
});
