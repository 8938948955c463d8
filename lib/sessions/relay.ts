import { CONTROL_CHANNEL, notifyControl } from "@/db/queries/sessions";
import type { PermissionReply } from "@/lib/harness/turn";
import { log } from "@/lib/log";
import { runtime } from "@/lib/runtime";

/*
 * The relay between web replicas. They share a database, not memory: a turn runs in the replica that
 * received its message, and an abort or a permission answer may arrive at another. That one relays
 * it over PostgreSQL NOTIFY; the replica running the turn acts, and the outcome shows in the
 * session's log. (Embedded PGlite has one process, so there is nothing to relay.)
 */

export type RelayedControl =
  | { type: "abort"; sessionId: string }
  | { type: "permission"; sessionId: string; permissionId: string; reply: PermissionReply };

export type RelayHandlers = {
  abort: (sessionId: string) => Promise<boolean>;
  permission: (sessionId: string, permissionId: string, reply: PermissionReply) => Promise<boolean>;
};

/** Subscribes this process; the handlers act only on turns this process runs. */
export async function listenRelay(handlers: RelayHandlers) {
  const listen = runtime().listen;
  if (!listen) return;
  await listen(CONTROL_CHANNEL, (payload) => {
    let message: RelayedControl;
    try {
      message = JSON.parse(payload) as RelayedControl;
    } catch {
      return;
    }
    const acting =
      message.type === "abort"
        ? handlers.abort(message.sessionId)
        : handlers.permission(message.sessionId, message.permissionId, message.reply);
    void acting.catch((err: unknown) =>
      log.warn("relayed session control failed", { type: message.type, err }),
    );
  });
}

/** False when there is no other process to ask (embedded database). */
export async function relayControl(message: RelayedControl): Promise<boolean> {
  if (!runtime().listen) return false;
  await notifyControl(JSON.stringify(message));
  return true;
}
