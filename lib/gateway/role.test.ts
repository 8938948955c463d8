import { describe, expect, it } from "vitest";

import { compileEgressPolicy, type EgressPolicy } from "@/lib/sandbox/egress/policy";

import { createPolicyCache, POLICY_CACHE_MS } from "./role";

describe("createPolicyCache", () => {
  const policy = compileEgressPolicy({ allow: ["a.test"], deny: [] });

  function setup(load: (id: string) => Promise<EgressPolicy | null>) {
    let clock = 1_000;
    const calls: string[] = [];
    const cached = createPolicyCache(
      (id) => {
        calls.push(id);
        return load(id);
      },
      POLICY_CACHE_MS,
      () => clock,
    );
    return { cached, calls, advance: (ms: number) => (clock += ms) };
  }

  it("keeps a session's policy for at most two seconds, shared by concurrent lookups", async () => {
    expect(POLICY_CACHE_MS).toBeLessThanOrEqual(2_000);
    const { cached, calls, advance } = setup(async () => policy);
    const burst = await Promise.all(Array.from({ length: 20 }, () => cached("ses_1")));
    expect(burst.every((p) => p === policy)).toBe(true);
    expect(calls).toEqual(["ses_1"]);
    advance(POLICY_CACHE_MS - 1);
    await cached("ses_1");
    expect(calls).toEqual(["ses_1"]);
    advance(1);
    await cached("ses_1");
    expect(calls).toEqual(["ses_1", "ses_1"]);
    await cached("ses_2");
    expect(calls).toEqual(["ses_1", "ses_1", "ses_2"]);
  });

  it("an ended session's null is cached like a policy; a failed lookup is not kept", async () => {
    let fail = true;
    const { cached, calls } = setup(async (id) => {
      if (id === "ses_dead") return null;
      if (fail) throw new Error("database is down");
      return policy;
    });
    expect(await cached("ses_dead")).toBeNull();
    expect(await cached("ses_dead")).toBeNull();
    await expect(cached("ses_1")).rejects.toThrow(/down/);
    fail = false;
    expect(await cached("ses_1")).toBe(policy);
    expect(calls).toEqual(["ses_dead", "ses_1", "ses_1"]);
  });
});
