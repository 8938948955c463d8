import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { builtinModel } from "@/lib/models/endpoint";
import { runtime } from "@/lib/runtime";

// GET /api/v1/model_gateway/requests – the built-in test model's request log
export const GET = handle(op.listGatewayRequests, async ({ query }) => {
  if (runtime().config.LITELLM_API_BASE) return json({ builtin: false, data: [] });
  const data = builtinModel().requests(query.session_id ? { session: query.session_id } : undefined);
  return json({ builtin: true, data });
});
