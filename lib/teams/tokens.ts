import { createHash, randomBytes } from "node:crypto";

import { API_KEY_PREFIX } from "@/lib/schemas/api-key";

/*
 * API keys and invite links are 32 random bytes (base64url). Only a SHA-256 of the whole string is
 * stored: the secret has 256 bits of entropy, so a fast hash is enough and a lookup is one index probe.
 */

export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

export function newApiKey(): { key: string; hash: string; tail: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { key, hash: sha256(key), tail: key.slice(-4) };
}

export function isApiKey(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX);
}

export function newInviteToken(): { token: string; hash: string } {
  const token = `inv_${randomBytes(32).toString("base64url")}`;
  return { token, hash: sha256(token) };
}
