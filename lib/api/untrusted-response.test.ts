import { describe, expect, it } from "vitest";

import { UNTRUSTED_CSP, untrustedResponseHeaders } from "./untrusted-response";

describe("headers of a sandbox's response", () => {
  it("keep only what describes the body; nothing that sets origin state", () => {
    const out = untrustedResponseHeaders({
      "content-type": "application/json",
      "content-length": "2",
      "set-cookie": ["a=1; Path=/"],
      "clear-site-data": '"*"',
      refresh: "0; url=https://evil.example/",
      link: "</x.js>; rel=preload; as=script",
      "service-worker-allowed": "/",
      "access-control-allow-origin": "*",
      "access-control-allow-credentials": "true",
      "content-security-policy": "script-src *",
      "strict-transport-security": "max-age=0",
      "cache-control": "public, max-age=31536000",
      "x-anything": "1",
      location: "https://evil.example/",
    });
    expect(out).toEqual({
      "content-type": "application/json",
      "content-length": "2",
      "content-security-policy": UNTRUSTED_CSP,
      "x-content-type-options": "nosniff",
      "cross-origin-resource-policy": "same-origin",
      "x-frame-options": "DENY",
      "cache-control": "no-store",
    });
  });

  it("make active documents downloads, sandboxed whatever the type", () => {
    for (const type of ["text/html", "image/svg+xml", "text/xml", "application/xhtml+xml", "x/unknown", ""]) {
      const out = untrustedResponseHeaders(type ? { "content-type": type } : {});
      expect(out["content-disposition"], type).toBe("attachment");
      expect(out["content-security-policy"]).toContain("sandbox");
    }
    expect(untrustedResponseHeaders({})["content-type"]).toBe("application/octet-stream");
    for (const type of ["application/json; charset=utf-8", "text/event-stream", "text/plain"]) {
      const out = untrustedResponseHeaders({ "content-type": type });
      expect(out["content-disposition"], type).toBeUndefined();
      expect(out["content-security-policy"]).toContain("sandbox");
    }
  });

  it("keep a redirect only when it stays on this origin", () => {
    expect(untrustedResponseHeaders({ location: "/session" }).location).toBe("/session");
    for (const location of ["//evil.example", "/\\evil.example", "https://evil.example", "javascript:x"]) {
      expect(untrustedResponseHeaders({ location }).location, location).toBeUndefined();
    }
  });
});
