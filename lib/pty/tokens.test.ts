import { randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { SecretBox } from "@/lib/secret-box";

import { mintTtyToken, TTY_TOKEN_TTL_SECONDS, verifyTtyToken } from "./tokens";

describe("terminal tokens", () => {
  const box = new SecretBox(randomBytes(32));
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);
  const a = { id: "sess_a", ttyEpoch: 0, modelTokenHash: "h1" };

  it("open their own session until they expire, and nothing else", () => {
    const { token, expiresAt } = mintTtyToken(a, now, box);
    expect(expiresAt.getTime()).toBe(now + TTY_TOKEN_TTL_SECONDS * 1000);
    expect(verifyTtyToken(a, token, now, box)).toBe(true);
    expect(verifyTtyToken(a, token, expiresAt.getTime() - 1000, box)).toBe(true);
    expect(verifyTtyToken(a, token, expiresAt.getTime(), box)).toBe(false);
    expect(verifyTtyToken({ ...a, id: "sess_b" }, token, now, box)).toBe(false);
    expect(verifyTtyToken(a, token, now, new SecretBox(randomBytes(32)))).toBe(false);
  });

  it("end when the session's generation moves on (revoke, restart)", () => {
    const { token } = mintTtyToken(a, now, box);
    expect(verifyTtyToken({ ...a, ttyEpoch: 1 }, token, now, box)).toBe(false);
    expect(verifyTtyToken({ ...a, modelTokenHash: "h2" }, token, now, box)).toBe(false);
    const fresh = mintTtyToken({ ...a, ttyEpoch: 1 }, now, box).token;
    expect(verifyTtyToken({ ...a, ttyEpoch: 1 }, fresh, now, box)).toBe(true);
  });

  it("cannot be extended or forged by editing them", () => {
    const { token } = mintTtyToken(a, now, box);
    const [, expiry, mac] = /^ttk_([0-9a-z]+)_(.+)$/.exec(token)!;
    const later = (Number.parseInt(expiry!, 36) + 3600).toString(36);
    expect(verifyTtyToken(a, `ttk_${later}_${mac}`, now, box)).toBe(false);
    const flipped = mac!.slice(0, -1) + (mac!.endsWith("A") ? "B" : "A");
    expect(verifyTtyToken(a, `ttk_${expiry}_${flipped}`, now, box)).toBe(false);
    for (const bad of ["", "ttk_", "ttk__", token + "x", token.toUpperCase()]) {
      expect(verifyTtyToken(a, bad, now, box)).toBe(false);
    }
  });
});
