import { timingSafeEqual } from "node:crypto";

import { runtime } from "@/lib/runtime";
import type { SecretBox } from "@/lib/secret-box";

/*
 * Terminal tokens: short-lived, for one session only, and revocable. A token is
 * `ttk_<expiry in seconds, base36>_<HMAC of "tty:<session id>:<generation>:<expiry>">`, the HMAC under a
 * key derived from the encryption key (SecretBox.derive), so every Hangar process sharing that key can
 * check it against the session row. The generation is the row's `tty_epoch` (bumped by
 * POST /sessions/{id}/tty_token/revoke) and its model token hash (new on every restart): bumping
 * either ends every token minted before. A token for one session never opens another.
 */

export const TTY_TOKEN_TTL_SECONDS = 15 * 60;
const PREFIX = "ttk_";

type Deriver = Pick<SecretBox, "derive">;

/** What a token is bound to: the session and its current token generation. */
export type TtySubject = { id: string; ttyEpoch: number; modelTokenHash: string };

function mac(box: Deriver, session: TtySubject, expiry: string): string {
  return box.derive(`tty:${session.id}:${session.ttyEpoch}.${session.modelTokenHash}:${expiry}`);
}

export function mintTtyToken(
  session: TtySubject,
  now = Date.now(),
  box: Deriver = runtime().box,
): { token: string; expiresAt: Date } {
  const expiresAt = Math.floor(now / 1000) + TTY_TOKEN_TTL_SECONDS;
  const expiry = expiresAt.toString(36);
  return {
    token: `${PREFIX}${expiry}_${mac(box, session, expiry)}`,
    expiresAt: new Date(expiresAt * 1000),
  };
}

export function isTtyToken(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** Whether `token` was minted for this session's current generation and has not expired. */
export function verifyTtyToken(
  session: TtySubject,
  token: string,
  now = Date.now(),
  box: Deriver = runtime().box,
): boolean {
  const match = /^ttk_([0-9a-z]{1,12})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return false;
  const [, expiry, given] = match as unknown as [string, string, string];
  if (Number.parseInt(expiry, 36) * 1000 <= now) return false;
  const expected = Buffer.from(mac(box, session, expiry));
  const presented = Buffer.from(given);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

export function ttyPath(sessionId: string): string {
  return `/api/v1/managed_agents/sessions/${encodeURIComponent(sessionId)}/tty`;
}
