import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

const PREFIX = "enc:v1:";
const IV_BYTES = 12;
/** Pinned: without authTagLength Node accepts a truncated tag (down to 4 bytes), which is forgeable. */
const TAG_BYTES = 16;

/**
 * AES-256-GCM for secrets at rest. Each value is bound (as associated data) to where it belongs,
 * e.g. `agent:<id>:env:<KEY>`, so a ciphertext copied to another row or key fails to decrypt.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error("SecretBox needs a 32-byte key");
    this.#key = key;
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
  }

  /** A stable secret for `label` (HMAC-SHA-256 under a key derived for that use), base64url. */
  derive(label: string): string {
    const subkey = createHmac("sha256", this.#key).update("hangar-derive-v1").digest();
    return createHmac("sha256", subkey).update(label).digest("base64url");
  }

  decrypt(stored: string, context: string): string {
    if (!stored.startsWith(PREFIX)) throw new Error("not an encrypted value");
    const raw = Buffer.from(stored.slice(PREFIX.length), "base64");
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error("encrypted value is too short");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const body = raw.subarray(IV_BYTES + TAG_BYTES);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
  }
}

/** Whose env vars a sealed map holds; each value is bound to `<owner>:env:<KEY>`. */
export type EnvOwner = `agent:${string}` | `session:${string}`;

/** Encrypts each value of an env var map, bound to its owner and key. */
export function sealEnv(
  box: SecretBox,
  owner: EnvOwner,
  vars: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(vars).map(([key, value]) => [key, box.encrypt(value, `${owner}:env:${key}`)]),
  );
}

/** The plaintext of a map `sealEnv` made for the same owner; throws for any value moved elsewhere. */
export function openEnv(
  box: SecretBox,
  owner: EnvOwner,
  stored: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(stored).map(([key, value]) => [key, box.decrypt(value, `${owner}:env:${key}`)]),
  );
}
