import { createDecipheriv, randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { openEnv, sealEnv, SecretBox } from "./secret-box";

const PREFIX = "enc:v1:";
const raw = (stored: string) => Buffer.from(stored.slice(PREFIX.length), "base64");
const pack = (bytes: Buffer) => PREFIX + bytes.toString("base64");

describe("SecretBox (AES-256-GCM)", () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it("round-trips, bound to its context", () => {
    const sealed = box.encrypt("s3cret", "agent:a:env:X");
    expect(box.decrypt(sealed, "agent:a:env:X")).toBe("s3cret");
    expect(() => box.decrypt(sealed, "agent:b:env:X")).toThrow();
    expect(() => new SecretBox(randomBytes(32)).decrypt(sealed, "agent:a:env:X")).toThrow();
  });

  it("refuses a truncated (4-byte) tag, which unpinned GCM would accept", () => {
    const sealed = raw(box.encrypt("", "ctx"));
    const truncated = Buffer.concat([sealed.subarray(0, 12), sealed.subarray(12, 16)]);
    // The attack: Node's decipher without authTagLength takes a 4-byte tag, guessable in 2^32 tries.
    const loose = createDecipheriv("aes-256-gcm", key, truncated.subarray(0, 12));
    loose.setAAD(Buffer.from("ctx"));
    loose.setAuthTag(truncated.subarray(12));
    expect(Buffer.concat([loose.update(Buffer.alloc(0)), loose.final()]).toString()).toBe("");
    // SecretBox refuses it.
    expect(() => box.decrypt(pack(truncated), "ctx")).toThrow();
  });

  it("refuses values shorter than iv + tag, and tampered ones", () => {
    const sealed = raw(box.encrypt("value", "ctx"));
    for (const length of [0, 4, 12, 20, 27]) {
      expect(() => box.decrypt(pack(sealed.subarray(0, length)), "ctx"), String(length)).toThrow();
    }
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => box.decrypt(pack(flipped), "ctx")).toThrow();
    expect(() => box.decrypt("plain", "ctx")).toThrow(/not an encrypted value/);
  });
});

describe("sealEnv / openEnv", () => {
  const box = new SecretBox(randomBytes(32));

  it("binds each value to <owner>:env:<KEY>, as rows stored before them are", () => {
    const sealed = sealEnv(box, "agent:ag_1", { A: "one", B: "two" });
    expect(box.decrypt(sealed.A!, "agent:ag_1:env:A")).toBe("one");
    const legacy = { A: box.encrypt("one", "session:ses_1:env:A") };
    expect(openEnv(box, "session:ses_1", legacy)).toEqual({ A: "one" });
    expect(openEnv(box, "agent:ag_1", sealed)).toEqual({ A: "one", B: "two" });
  });

  it("refuses a value moved to another owner or key", () => {
    const sealed = sealEnv(box, "agent:ag_1", { A: "one", B: "two" });
    expect(() => openEnv(box, "agent:ag_2", sealed)).toThrow();
    expect(() => openEnv(box, "session:ag_1", sealed)).toThrow();
    expect(() => openEnv(box, "agent:ag_1", { A: sealed.B! })).toThrow();
  });
});
