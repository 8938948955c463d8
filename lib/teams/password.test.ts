import { describe, expect, it } from "vitest";

import { burnPasswordCheck, hashPassword, verifyPassword } from "./password";

describe("passwords", () => {
  it("hash with scrypt and a fresh salt; verify only the same password", async () => {
    const a = await hashPassword("correct horse battery staple");
    const b = await hashPassword("correct horse battery staple");
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("horse");
    expect(await verifyPassword("correct horse battery staple", a)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", a)).toBe(false);
    expect(await verifyPassword("", a)).toBe(false);
  });

  it("treat canonically equal Unicode as the same password", async () => {
    const composed = await hashPassword("caf\u00e9 au lait!");
    expect(await verifyPassword("cafe\u0301 au lait!", composed)).toBe(true);
  });

  it("refuse malformed or absurd stored hashes instead of spending unbounded work", async () => {
    for (const stored of [
      "",
      "plain",
      "bcrypt$x",
      "scrypt$0$8$1$aa$bb",
      `scrypt$${2 ** 24}$8$1$aa$bb`,
      "scrypt$a$b$c$d$e",
    ]) {
      expect(await verifyPassword("x", stored)).toBe(false);
    }
  });

  it("an unknown account costs about what a wrong password costs", async () => {
    const stored = await hashPassword("the real one, long enough");
    await burnPasswordCheck("warm up");
    const time = async (work: () => Promise<unknown>) => {
      const t0 = performance.now();
      await work();
      return performance.now() - t0;
    };
    const wrong = await time(() => verifyPassword("a wrong one", stored));
    const unknown = await time(() => burnPasswordCheck("a wrong one"));
    expect(unknown).toBeGreaterThan(wrong / 4);
  });
});
