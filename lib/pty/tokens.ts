import { timingSafeEqual } from "node:crypto";

import { runtime } from "@/lib/runtime";
import type { SecretBox } from "@/lib/secret-box";

/*
 * Terminal tokens: short-lived, for one session only, for one holder, and revocable. A token is
 * `ttk_<expiry, base36>_<w|r>_<holder, base64url>_<HMAC>`, the HMAC of
 * "tty:<session id>:<generation>:<expiry>:<mode>:<holder>" under a key derived from the encryption key
 * (SecretBox.derive), so every Hangar process sharing that key can check it against the session row.
 * - The generation is the row's `tty_epoch` (bumped by POST /sessions/{id}/tty_token/revoke) and its
 *   model token hash (new on every restart): bumping either ends every token minted before.
 * - The mode is what the minting caller's role allowed: `w` types, `r` only watches.
 * - The holder is the credential it was minted for (`key:<id>`, `login:<id>` or `master`): the
 *   terminal checks that credential is still good when a token connects, and revoking the
 *   credential closes what its tokens opened.
 * A token for one session never opens another, and editing any part breaks the HMAC.
 */

export const TTY_TOKEN_TTL_SECONDS = 15 * 60;
const PREFIX = "ttk_";

type Deriver = Pick<SecretBox, "derive">;

/** What a token is bound to: the session and its current token generation. */
export type TtySubject = { id: string; ttyEpoch: number; modelTokenHash: string };

/** Whom a token is for, and whether it may type. */
export type TtyHolder = { credential: string; mode: "write" | "read" };

function mac(box: Deriver, session: TtySubject, expiry: string, mode: string, credential: string): string {
  return box.derive(
    `tty:${session.id}:${session.ttyEpoch}.${session.modelTokenHash}:${expiry}:${mode}:${credential}`,
  );
}

export function mintTtyToken(
  session: TtySubject,
  holder: TtyHolder,
  now = Date.now(),
  box: Deriver = runtime().box,
): { token: string; expiresAt: Date } {
  const expiresAt = Math.floor(now / 1000) + TTY_TOKEN_TTL_SECONDS;
  const expiry = expiresAt.toString(36);
  const mode = holder.mode === "write" ? "w" : "r";
  const credential = Buffer.from(holder.credential).toString("base64url");
  return {
    token: `${PREFIX}${expiry}_${mode}_${credential}_${mac(box, session, expiry, mode, holder.credential)}`,
    expiresAt: new Date(expiresAt * 1000),
  };
}

export function isTtyToken(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** The holder `token` was minted for, when it is for this session's current generation and unexpired. */
export function verifyTtyToken(
  session: TtySubject,
  token: string,
  now = Date.now(),
  box: Deriver = runtime().box,
): TtyHolder | null {
  const match = /^ttk_([0-9a-z]{1,12})_([wr])_([A-Za-z0-9_-]{1,200})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const [, expiry, mode, encoded, given] = match as unknown as [string, string, string, string, string];
  if (Number.parseInt(expiry, 36) * 1000 <= now) return null;
  const credential = Buffer.from(encoded, "base64url").toString("utf8");
  const expected = Buffer.from(mac(box, session, expiry, mode, credential));
  const presented = Buffer.from(given);
  if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) return null;
  return { credential, mode: mode === "w" ? "write" : "read" };
}

export function ttyPath(sessionId: string): string {
  return `/api/v1/managed_agents/sessions/${encodeURIComponent(sessionId)}/tty`;
}
