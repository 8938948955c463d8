import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { listModels } from "@/lib/models/list";

// GET /api/v1/models – the model gateway's model list
export const GET = handle(op.listModels, async () => json(await listModels()));
