import { describe, expect, it } from "vitest";

import { AFTER_LOGIN, safeNextPath } from "./safe-next";

describe("safeNextPath", () => {
  it("keeps paths of this origin", () => {
    expect(safeNextPath("/skills")).toBe("/skills");
    expect(safeNextPath("/sessions/sess_1?terminal=shell#x")).toBe("/sessions/sess_1?terminal=shell#x");
  });

  it("sends everything else to the agents page", () => {
    const offSite = [
      undefined,
      "",
      "//evil.example",
      "/\\evil.example",
      "\\\\evil.example",
      "\\evil.example",
      "/%5Cevil.example",
      "/%5cevil.example",
      "/%2f%2fevil.example",
      "/%2F/evil.example",
      "%2F%2Fevil.example",
      "/.//evil.example",
      "/a/..//evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/%09/evil.example",
      "/%0a/evil.example",
      " //evil.example",
      "javascript:alert(document.domain)",
      "https://evil.example",
      "http:evil.example",
      "evil.example",
      "/%E0%A4%A",
      "/" + "a".repeat(3000),
    ];
    for (const next of offSite) expect(safeNextPath(next), JSON.stringify(next)).toBe(AFTER_LOGIN);
  });
});
