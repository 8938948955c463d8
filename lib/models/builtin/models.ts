import type http from "node:http";

/*
 * Model listings. One shape answers both clients: OpenAI reads `object`/`data[].id`/`owned_by`,
 * Anthropic reads `data[].type`/`display_name`/`created_at` and the paging fields.
 */

const CREATED = Date.UTC(2026, 0, 1) / 1000;

function model(id: string) {
  return {
    id,
    object: "model",
    created: CREATED,
    owned_by: "hangar",
    type: "model",
    display_name: id,
    created_at: new Date(CREATED * 1000).toISOString(),
  };
}

export function sendModels(res: http.ServerResponse, models: string[], id: string | null) {
  res.writeHead(200, { "content-type": "application/json" });
  if (id !== null) {
    res.end(JSON.stringify(model(id)));
    return;
  }
  res.end(
    JSON.stringify({
      object: "list",
      data: models.map(model),
      has_more: false,
      first_id: models[0] ?? null,
      last_id: models.at(-1) ?? null,
    }),
  );
}
