import { ApiError } from "@/lib/api/errors";
import { handle } from "@/lib/api/handler";
import { operations as op } from "@/lib/api/operations";

// GET /api/v1/managed_agents/sessions/{id}/tty – the terminal WebSocket. server.ts takes the upgrade
// (lib/pty/terminals.ts) before any route sees it; a plain GET, once authorised, learns what to send.
export const GET = handle(op.openTerminal, async () => {
  throw new ApiError(
    "upgrade_required",
    "This is the session's terminal: connect with a WebSocket (Upgrade: websocket)",
  );
});
