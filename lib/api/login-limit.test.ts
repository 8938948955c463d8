import { describe, expect, it } from "vitest";

import { chargeFailedLogin, LOGIN_BURST, LOGIN_PER_MINUTE, takeLoginAttempt } from "./login-limit";

describe("login rate limit", () => {
  const t0 = Date.UTC(2026, 0, 1);

  it("allows a burst, then refuses until tokens come back; clients are counted apart", () => {
    const client = `c-${Math.random()}`;
    for (let i = 0; i < LOGIN_BURST; i++) expect(takeLoginAttempt(client, t0)).toBeNull();
    const wait = takeLoginAttempt(client, t0);
    expect(wait).toBe(60 / LOGIN_PER_MINUTE);
    expect(takeLoginAttempt(`other-${Math.random()}`, t0)).toBeNull();
    expect(takeLoginAttempt(client, t0 + (wait! * 1000) / 2)).not.toBeNull();
    expect(takeLoginAttempt(client, t0 + wait! * 1000)).toBeNull();
    expect(takeLoginAttempt(client, t0 + wait! * 1000)).not.toBeNull();
  });

  it("a wrong key costs two attempts", () => {
    const client = `c-${Math.random()}`;
    let allowed = 0;
    while (takeLoginAttempt(client, t0) === null) {
      allowed++;
      chargeFailedLogin(client, t0);
    }
    expect(allowed).toBe(LOGIN_BURST / 2);
  });
});
