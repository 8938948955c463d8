import { getActiveBrowserSession, setBrowserSessionWorkspace } from "@/db/queries/browser-sessions";
import { principalOfLogin } from "@/lib/api/auth";
import { ApiError } from "@/lib/api/errors";
import { handle, json } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";
import { describeCaller } from "@/lib/teams/caller";
import { assertMayEnter } from "@/lib/teams/service";

// POST /api/v1/auth/workspace – switch this browser login to another workspace
export const POST = handle(op.switchWorkspace, async ({ principal, body }) => {
  if (!principal.login)
    throw new ApiError(
      "bad_request",
      "Only a browser login switches workspaces; send the Hangar-Workspace header instead",
    );
  await assertMayEnter(principal, body.workspace_id);
  await setBrowserSessionWorkspace(principal.login.id, body.workspace_id);
  const login = await getActiveBrowserSession(principal.login.id);
  if (!login) throw new ApiError("unauthorized", "Your login has ended: log in again");
  return json(await describeCaller(await principalOfLogin(login)));
});
