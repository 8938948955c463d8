import { describe, expect, inject, it } from "vitest";

import { api } from "../support/api";

describe("API description", () => {
  it("is public, like the /docs/api page that renders it: no key needed, nothing secret in it", async () => {
    const res = await api("GET", "/api/v1/openapi.json", { key: null });
    expect(res.status).toBe(200);
    expect(res.body.paths["/api/v1/openapi.json"].get.security).toEqual([]);
    expect(JSON.stringify(res.body)).not.toContain(inject("masterKey"));
  });

  it("GET /api/v1/openapi.json is OpenAPI 3.1 with every operation described", async () => {
    const res = await api("GET", "/api/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    const ops = Object.values(res.body.paths as Record<string, Record<string, any>>).flatMap((m) =>
      Object.values(m),
    );
    expect(ops.length).toBeGreaterThanOrEqual(16);
    for (const op of ops) {
      expect(op.operationId).toBeTruthy();
      expect(op.summary).toBeTruthy();
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
    }
    const create = res.body.paths["/api/v1/managed_agents/agents"].post;
    const schema = create.requestBody.content["application/json"].schema;
    expect(schema.required).toEqual(["model"]);
    expect(schema.properties.harness_id.enum).toEqual([
      "opencode",
      "claude-agent-sdk",
      "claude-code",
      "codex",
    ]);
    expect(schema.properties.env_vars).toBeTruthy();
    expect(
      create.responses["201"].content["application/json"].schema.properties.attached_skill_ids,
    ).toBeTruthy();
  });

  it("the human page renders the same operations", async () => {
    const res = await fetch(`${inject("baseUrl")}/docs/api`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("/api/v1/managed_agents/agents/{id}/skill");
    expect(html).toContain("Create an agent");
  });
});
