import { handle, json } from "@/lib/api/handler";
import { buildOpenApiDocument } from "@/lib/api/openapi";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/openapi.json – the API description, generated from the operation table
export const GET = handle(op.openapi, async () => json(buildOpenApiDocument()));
