import { timingSafeEqual } from "node:crypto";

import { runtime } from "@/lib/runtime";
import type { SecretBox } from "@/lib/secret-box";

/*
 * Terminal tokens: short-lived, for one session only, and stateless. A token is
 * `ttk_<expiry in seconds, base36>_<HMAC of "tty:<session id>:<expiry>">`, the HMAC under a key derived
 * from the encryption key (SecretBox.derive), so every Hangar process sharing that key can check it
 * and nothing needs storing. A token for one session never opens another.
 */

export const TTY_TOKEN_TTL_SECONDS = 15 * 60;
const PREFIX = "ttk_";

type Deriver = Pick<SecretBox, "derive">;

function mac(box: Deriver, sessionId: string, expiry: string): string {
  return box.derive(`tty:${sessionId}:${expiry}`);
}

export function mintTtyToken(
  sessionId: string,
  now = Date.now(),
  box: Deriver = runtime().box,
): { token: string; expiresAt: Date } {
  const expiresAt = Math.floor(now / 1000) + TTY_TOKEN_TTL_SECONDS;
  const expiry = expiresAt.toString(36);
  return {
    token: `${PREFIX}${expiry}_${mac(box, sessionId, expiry)}`,
    expiresAt: new Date(expiresAt * 1000),
  };
}

export function isTtyToken(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** Whether `token` was minted for `sessionId` and has not expired. */
export function verifyTtyToken(
  sessionId: string,
  token: string,
  now = Date.now(),
  box: Deriver = runtime().box,
): boolean {
  const match = /^ttk_([0-9a-z]{1,12})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return false;
  const [, expiry, given] = match as unknown as [string, string, string];
  if (Number.parseInt(expiry, 36) * 1000 <= now) return false;
  const expected = Buffer.from(mac(box, sessionId, expiry));
  const presented = Buffer.from(given);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

export function ttyPath(sessionId: string): string {
  return `/api/v1/managed_agents/sessions/${encodeURIComponent(sessionId)}/tty`;
}
