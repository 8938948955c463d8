import { randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { SecretBox } from "@/lib/secret-box";

import { mintTtyToken, TTY_TOKEN_TTL_SECONDS, verifyTtyToken } from "./tokens";

describe("terminal tokens", () => {
  const box = new SecretBox(randomBytes(32));
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);

  it("open their own session until they expire, and nothing else", () => {
    const { token, expiresAt } = mintTtyToken("sess_a", now, box);
    expect(expiresAt.getTime()).toBe(now + TTY_TOKEN_TTL_SECONDS * 1000);
    expect(verifyTtyToken("sess_a", token, now, box)).toBe(true);
    expect(verifyTtyToken("sess_a", token, expiresAt.getTime() - 1000, box)).toBe(true);
    expect(verifyTtyToken("sess_a", token, expiresAt.getTime(), box)).toBe(false);
    expect(verifyTtyToken("sess_b", token, now, box)).toBe(false);
    expect(verifyTtyToken("sess_a", token, now, new SecretBox(randomBytes(32)))).toBe(false);
  });

  it("cannot be extended or forged by editing them", () => {
    const { token } = mintTtyToken("sess_a", now, box);
    const [, expiry, mac] = /^ttk_([0-9a-z]+)_(.+)$/.exec(token)!;
    const later = (Number.parseInt(expiry!, 36) + 3600).toString(36);
    expect(verifyTtyToken("sess_a", `ttk_${later}_${mac}`, now, box)).toBe(false);
    const flipped = mac!.slice(0, -1) + (mac!.endsWith("A") ? "B" : "A");
    expect(verifyTtyToken("sess_a", `ttk_${expiry}_${flipped}`, now, box)).toBe(false);
    for (const bad of ["", "ttk_", "ttk__", token + "x", token.toUpperCase()]) {
      expect(verifyTtyToken("sess_a", bad, now, box)).toBe(false);
    }
  });
});
