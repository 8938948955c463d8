import { z } from "zod";

import { isoDateTimeSchema } from "./common";
import { workspaceRoleSchema } from "./roles";

export const workspaceIdSchema = z.string().regex(/^ws_[a-z0-9_]{1,40}$/, "not a workspace id (ws_…)");

export const workspaceSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** The caller's role in it. */
  role: workspaceRoleSchema,
  created_at: isoDateTimeSchema,
});

export const workspaceListSchema = z.object({ data: z.array(workspaceSchema) });

export const createWorkspaceSchema = z.object({
  name: z.string().trim().min(1, "name is required").max(100),
});

export const switchWorkspaceSchema = z.object({ workspace_id: workspaceIdSchema });

export type Workspace = z.infer<typeof workspaceSchema>;
export type CreateWorkspaceInput = z.infer<typeof createWorkspaceSchema>;
