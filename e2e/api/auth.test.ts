import fs from "node:fs";
import path from "node:path";

import { describe, expect, it } from "vitest";

import { api } from "../support/api";

type Doc = { paths: Record<string, Record<string, { security?: unknown[] }>> };

async function routeTable() {
  const doc = (await api<Doc>("GET", "/api/v1/openapi.json")).body;
  return Object.entries(doc.paths).flatMap(([p, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path: p,
      open: op.security?.length === 0,
    })),
  );
}

const concrete = (p: string) =>
  p.replace(/\{(\w+)\}/g, (_, name: string) => (name === "index" ? "0" : "agt_x"));

/** The route files on disk and the methods they export, in OpenAPI path syntax. */
function routeFiles() {
  const root = path.join(process.cwd(), "app");
  const found: { method: string; path: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "route.ts") {
        const urlPath =
          "/" +
          path
            .relative(root, dir)
            .split(path.sep)
            .map((s) => s.replace(/^\[(?:\.\.\.)?(\w+)\]$/, "{$1}"))
            .join("/");
        const source = fs.readFileSync(full, "utf8");
        for (const m of source.matchAll(/export const (GET|POST|PUT|PATCH|DELETE)\b/g))
          found.push({ method: m[1] as string, path: urlPath });
      }
    }
  };
  walk(path.join(root, "api"));
  walk(path.join(root, "v1"));
  return found;
}

describe("auth", () => {
  it("the route table and the route files agree (every handler is documented)", async () => {
    // The opencode proxy is served by the API dispatcher itself (any method, raw bodies), not a route file.
    const table = (await routeTable())
      .filter((r) => !r.path.endsWith("/opencode/{path}"))
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    const files = routeFiles()
      .filter((r) => r.path !== "/api/v1/{path}" && r.path !== "/v1/{path}")
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(files).toEqual(table);
  });

  it("only the health check, the logins, the API description and invite links are open", async () => {
    const open = (await routeTable()).filter((r) => r.open).map((r) => `${r.method} ${r.path}`);
    // An invite link's token is its credential (one-time, hashed at rest, expiring). The OIDC
    // redirects are the sign-in itself; their credential is the provider's signed ID token.
    expect(open.sort()).toEqual([
      "GET /api/v1/auth/oidc/callback",
      "GET /api/v1/auth/oidc/start",
      "GET /api/v1/auth/providers",
      "GET /api/v1/health",
      "GET /api/v1/invites/accept/{token}",
      "GET /api/v1/openapi.json",
      "POST /api/v1/auth/login",
      "POST /api/v1/invites/accept/{token}",
    ]);
  });

  it("every route without a key → 401 with the envelope", async () => {
    const routes = (await routeTable()).filter((r) => !r.open);
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const body = route.method === "GET" || route.method === "DELETE" ? undefined : { model: "m" };
      const res = await api(route.method, concrete(route.path), { key: null, body });
      expect(res.status, `${route.method} ${route.path}`).toBe(401);
      // The Managed Agents API facade answers in Anthropic's envelope, the rest in Hangar's.
      if (route.path.startsWith("/v1/")) expect(res.body.error.type).toBe("authentication_error");
      else expect(res.body.error.code).toBe("unauthorized");
    }
  });

  it("every route with a wrong key → 401, including near misses", async () => {
    const key = (await import("vitest")).inject("masterKey");
    const wrong = ["wrong", key.slice(0, -1), key + "x", key.toUpperCase(), ""];
    for (const route of (await routeTable()).filter((r) => !r.open)) {
      for (const attempt of wrong) {
        const res = await api(route.method, concrete(route.path), { key: attempt });
        expect(res.status, `${route.method} ${route.path} with ${attempt.length}-char key`).toBe(401);
      }
    }
  });

  it("the master key is accepted in any case of the Bearer scheme", async () => {
    const key = (await import("vitest")).inject("masterKey");
    const res = await api("GET", "/api/v1/skills", {
      key: null,
      headers: { authorization: `bearer ${key}` },
    });
    expect(res.status).toBe(200);
  });

  it("unknown /api/v1 paths → 401 without a key, 404 with one", async () => {
    expect((await api("GET", "/api/v1/nope", { key: null })).status).toBe(401);
    expect((await api("POST", "/api/v1/managed_agents/nope/deeper", { key: null })).status).toBe(401);
    const res = await api("GET", "/api/v1/nope");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  it("GET /api/v1/health needs no key", async () => {
    const res = await api("GET", "/api/v1/health", { key: null });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
  });
});

describe("methods", () => {
  it("a known path with an unsupported method → 401 without a key, 405 with one", async () => {
    expect((await api("PUT", "/api/v1/skills", { key: null })).status).toBe(401);
    const res = await api("PUT", "/api/v1/skills");
    expect(res.status).toBe(405);
    expect(res.body.error).toEqual({
      code: "method_not_allowed",
      message: "PUT is not supported here; use GET, POST",
    });
  });
});
