import { notifyChannel } from "@/db/queries/sessions";
import { log } from "@/lib/log";
import { processSlot } from "@/lib/process-slot";
import { runtime } from "@/lib/runtime";

/*
 * Revocation reaches what is already open. Every long-lived connection (an SSE stream, a terminal
 * WebSocket, an opencode event stream) registers the credentials it was opened with: `key:<id>`,
 * `login:<browser session id>`, `member:<workspace>:<user>`, `user:<id>`. Revoking one closes each
 * connection that holds it, in this process at once and in the other replicas through a PostgreSQL
 * NOTIFY (tens of milliseconds). A credential's expiry closes its connections too. New requests are
 * refused by authentication itself, which reads the rows.
 */

export const REVOKE_CHANNEL = "hangar_revoke";

type Watcher = { credentials: readonly string[]; close: (reason: string) => void };

const state = processSlot("revocation", () => ({ watchers: new Set<Watcher>(), listening: false }));

/**
 * Calls `close` once when any of `credentials` is revoked or `expiresAt` passes. Returns the way to
 * stop watching (call it when the connection ends by itself).
 */
export function watchCredentials(
  credentials: readonly string[],
  close: (reason: string) => void,
  expiresAt: Date | null = null,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const watcher: Watcher = {
    credentials,
    close: (reason) => {
      stop();
      close(reason);
    },
  };
  const stop = () => {
    state.watchers.delete(watcher);
    if (timer) clearTimeout(timer);
  };
  if (credentials.length === 0 && !expiresAt) return stop;
  state.watchers.add(watcher);
  if (expiresAt) {
    const ms = expiresAt.getTime() - Date.now();
    // setTimeout holds 2^31-1 ms at most; a credential good for longer is checked again then.
    if (ms <= 0) watcher.close("credential expired");
    else timer = setTimeout(() => watcher.close("credential expired"), Math.min(ms, 2 ** 31 - 1));
    timer?.unref();
  }
  return stop;
}

/** Closes this process's connections opened with `credential`; returns how many. */
export function closeLocally(credential: string, reason = "credential revoked"): number {
  let closed = 0;
  for (const watcher of [...state.watchers]) {
    if (!watcher.credentials.includes(credential)) continue;
    closed++;
    try {
      watcher.close(reason);
    } catch (err) {
      log.warn("closing a revoked connection failed", { err });
    }
  }
  return closed;
}

/** Closes every connection, in every replica, that was opened with one of `credentials`. */
export async function revokeCredentials(...credentials: string[]): Promise<void> {
  for (const credential of credentials) closeLocally(credential);
  if (!runtime().listen) return;
  for (const credential of credentials) await notifyChannel(REVOKE_CHANNEL, credential);
}

/** Called once at start: close what other replicas revoke. */
export async function listenForRevocations(): Promise<void> {
  const listen = runtime().listen;
  if (!listen || state.listening) return;
  state.listening = true;
  await listen(REVOKE_CHANNEL, (credential) => void closeLocally(credential));
}
