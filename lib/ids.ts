/*
 * Resource ids: a short type prefix and a 26-character ULID (48-bit millisecond time, 80 random bits,
 * Crockford base32, lower case). They sort by creation time, which keeps b-tree inserts local and
 * lets session and event tables order by id.
 */

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export const ID_PREFIXES = {
  agent: "agt",
  skill: "skl",
  session: "sess",
  browserSession: "bs",
  workspace: "ws",
  user: "usr",
  invite: "inv",
  apiKey: "key",
  message: "msg",
  turn: "turn",
  environment: "env",
  vault: "vlt",
  credential: "vcrd",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export function newId(kind: IdKind, now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let rest = "";
  for (const byte of random) rest += ALPHABET[byte % 32];
  return `${ID_PREFIXES[kind]}_${time}${rest}`;
}
