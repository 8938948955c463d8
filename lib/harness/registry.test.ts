import { describe, expect, it } from "vitest";

import { HARNESS_IDS, HARNESSES } from "@/lib/schemas/harness";

import { HARNESS_PROXY, harnessOf, harnessPackageDirs, harnessTui, proxiedHarness } from "./registry";

describe("the harness registry", () => {
  it("holds every id of the wire contract, of the kind the schema says", () => {
    for (const id of HARNESS_IDS) {
      expect(harnessOf(id).id).toBe(id);
      expect(harnessOf(id).kind).toBe(HARNESSES[id].kind);
      expect(harnessTui(id, "m") !== undefined).toBe(HARNESSES[id].kind === "tui");
    }
  });

  it("lists each binary's package once (claude serves both Claude harnesses)", () => {
    const dirs = harnessPackageDirs();
    expect(dirs).toHaveLength(3);
    expect(new Set(dirs).size).toBe(3);
  });

  it("matches a harness proxy path: session id, segment, path and query", () => {
    const base = "/api/v1/managed_agents/sessions/ses_1/opencode";
    expect(HARNESS_PROXY.exec(`${base}/session/x?directory=%2F`)?.slice(1)).toEqual([
      "ses_1",
      "opencode",
      "/session/x",
      "?directory=%2F",
    ]);
    expect(HARNESS_PROXY.exec(base)?.slice(1)).toEqual(["ses_1", "opencode", undefined, undefined]);
    expect(HARNESS_PROXY.test(`${base}x/session`)).toBe(false);
    expect(HARNESS_PROXY.test("/api/v1/managed_agents/sessions/ses_1/codex/x")).toBe(false);
    expect(proxiedHarness("opencode")?.harness.id).toBe("opencode");
    expect(proxiedHarness("codex")).toBeNull();
  });
});
