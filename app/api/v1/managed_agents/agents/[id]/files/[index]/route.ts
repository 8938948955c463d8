import { getAgentFile } from "@/db/queries/agents";
import { handle } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/managed_agents/agents/{id}/files/{index} – download one sandbox file
export const GET = handle(op.getAgentFile, async ({ params }) => {
  const file = await getAgentFile(params.id, params.index);
  return {
    status: 200,
    bytes: file.content,
    headers: {
      "content-type": file.contentType,
      "content-length": String(file.content.length),
      "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
      "x-content-type-options": "nosniff",
    },
  };
});
