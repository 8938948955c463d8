import { describe, expect, it, vi } from "vitest";

import { decodeOidcCookie, encodeOidcCookie, OIDC_FLOW_TTL_MS, oidcCookieHeader } from "./oidc-cookie";

vi.mock("@/lib/runtime", () => ({ runtime: () => ({ masterKeyDigest: Buffer.alloc(32, 7) }) }));

const flow = {
  state: "st",
  nonce: "no",
  verifier: "ve",
  redirectUri: "https://h.example/api/v1/auth/oidc/callback",
  next: "/skills",
};

describe("the OIDC flow cookie", () => {
  it("round-trips while fresh; altered, re-signed or stale values are refused", () => {
    const value = encodeOidcCookie(flow);
    expect(decodeOidcCookie(value)).toMatchObject(flow);
    const [payload, signature] = value.split(".") as [string, string];
    const changed = Buffer.from(JSON.stringify({ ...flow, next: "//evil", expiresAt: Date.now() + 1e6 }));
    for (const bad of [
      undefined,
      "",
      payload,
      `${payload}.${signature}.x`,
      `${changed.toString("base64url")}.${signature}`,
      `${payload}.${signature.slice(1)}`,
      encodeOidcCookie(flow, Date.now() - OIDC_FLOW_TTL_MS - 1),
    ])
      expect(decodeOidcCookie(bad), String(bad)).toBeNull();
  });

  it("is __Host-, Secure over TLS; HttpOnly, Lax and ten minutes either way", () => {
    expect(oidcCookieHeader("v", true)).toBe(
      "__Host-hangar_oidc=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=600",
    );
    expect(oidcCookieHeader("v", false)).toBe("hangar_oidc=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=600");
    expect(oidcCookieHeader("", false)).toBe("hangar_oidc=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
  });
});
