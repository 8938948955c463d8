import { sessionIdsInWorkspace } from "@/db/queries/sessions";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { builtinModel } from "@/lib/models/endpoint";
import { runtime } from "@/lib/runtime";

// GET /api/v1/model_gateway/requests – the built-in test model's request log
export const GET = handle(op.listGatewayRequests, async ({ query, principal }) => {
  if (runtime().config.LITELLM_API_BASE) return json({ builtin: false, data: [] });
  const all = builtinModel().requests(query.session_id ? { session: query.session_id } : undefined);
  if (principal.actor.kind === "master") return json({ builtin: true, data: all });
  // The log is the process's, not a workspace's: others see their own workspace's sessions only.
  const ids = [...new Set(all.map((r) => r.session).filter((s): s is string => s !== null))];
  const mine = await sessionIdsInWorkspace(ids, principal.workspaceId);
  return json({ builtin: true, data: all.filter((r) => r.session !== null && mine.has(r.session)) });
});
