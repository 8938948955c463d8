import { randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { SecretBox } from "@/lib/secret-box";

import { mintTtyToken, TTY_TOKEN_TTL_SECONDS, verifyTtyToken, type TtyHolder } from "./tokens";

describe("terminal tokens", () => {
  const box = new SecretBox(randomBytes(32));
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);
  const a = { id: "sess_a", ttyEpoch: 0, modelTokenHash: "h1" };
  const writer: TtyHolder = { credential: "key:key_1", mode: "write" };

  it("open their own session until they expire, and nothing else", () => {
    const { token, expiresAt } = mintTtyToken(a, writer, now, box);
    expect(expiresAt.getTime()).toBe(now + TTY_TOKEN_TTL_SECONDS * 1000);
    expect(verifyTtyToken(a, token, now, box)).toEqual(writer);
    expect(verifyTtyToken(a, token, expiresAt.getTime() - 1000, box)).toEqual(writer);
    expect(verifyTtyToken(a, token, expiresAt.getTime(), box)).toBeNull();
    expect(verifyTtyToken({ ...a, id: "sess_b" }, token, now, box)).toBeNull();
    expect(verifyTtyToken(a, token, now, new SecretBox(randomBytes(32)))).toBeNull();
  });

  it("carry their holder and mode, and neither can be changed", () => {
    const viewer = mintTtyToken(a, { credential: "login:bs_9", mode: "read" }, now, box).token;
    expect(verifyTtyToken(a, viewer, now, box)).toEqual({ credential: "login:bs_9", mode: "read" });
    expect(verifyTtyToken(a, viewer.replace("_r_", "_w_"), now, box)).toBeNull();
    const other = Buffer.from("master").toString("base64url");
    const swapped = viewer.replace(/_r_[^_]+_/, `_r_${other}_`);
    expect(verifyTtyToken(a, swapped, now, box)).toBeNull();
  });

  it("end when the session's generation moves on (revoke, restart)", () => {
    const { token } = mintTtyToken(a, writer, now, box);
    expect(verifyTtyToken({ ...a, ttyEpoch: 1 }, token, now, box)).toBeNull();
    expect(verifyTtyToken({ ...a, modelTokenHash: "h2" }, token, now, box)).toBeNull();
    const fresh = mintTtyToken({ ...a, ttyEpoch: 1 }, writer, now, box).token;
    expect(verifyTtyToken({ ...a, ttyEpoch: 1 }, fresh, now, box)).toEqual(writer);
  });

  it("cannot be extended or forged by editing them", () => {
    const { token } = mintTtyToken(a, writer, now, box);
    const [, expiry, rest] = /^ttk_([0-9a-z]+)_(.+)$/.exec(token)!;
    const later = (Number.parseInt(expiry!, 36) + 3600).toString(36);
    expect(verifyTtyToken(a, `ttk_${later}_${rest}`, now, box)).toBeNull();
    const flipped = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    expect(verifyTtyToken(a, flipped, now, box)).toBeNull();
    for (const bad of ["", "ttk_", "ttk__", token + "x", token.toUpperCase()]) {
      expect(verifyTtyToken(a, bad, now, box)).toBeNull();
    }
  });
});
