import { createHash } from "node:crypto";

import { describe, expect, inject, it } from "vitest";

import { agentListSchema, agentSchema } from "@/lib/schemas/agent";
import { SECRET_MASK } from "@/lib/schemas/env-vars";

import { AGENTS, api, b64, createAgent, unique } from "../support/api";

const sha = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

describe("POST /agents", () => {
  it("returns every field of the wire object, with defaults", async () => {
    const res = await api("POST", AGENTS, { body: { model: "openai/gpt-5" } });
    expect(res.status).toBe(201);
    const agent = agentSchema.strict().parse(res.body);
    expect(agent).toMatchObject({
      name: null,
      model: "openai/gpt-5",
      prompt: null,
      harness_id: "opencode",
      supports_tui: false,
      requirements: null,
      repo_url: null,
      branch: "main",
      pfp_url: null,
      mcp_servers: [],
      env_vars: {},
      attached_skill_ids: [],
      allow_out: [],
      deny_out: [],
      sandbox_files: [],
      version: 1,
    });
    expect(agent.id).toMatch(/^agt_[0-9a-z]{26}$/);
    expect(Date.parse(agent.created_at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it.each([
    ["opencode", false],
    ["claude-agent-sdk", false],
    ["claude-code", true],
    ["codex", true],
  ])("harness %s → supports_tui %s", async (harness, tui) => {
    const agent = await createAgent({ harness_id: harness });
    expect(agent.supports_tui).toBe(tui);
  });

  it("stores every field and reads it back", async () => {
    const files = [
      { name: "a.txt", sandbox_path: "~/a.txt", content: b64("alpha"), size: 5, content_type: "text/plain" },
      { name: "b.bin", sandbox_path: "/opt/data/b.bin", content: b64(Buffer.from([0, 1, 2, 255])), size: 4 },
    ];
    const body = {
      name: unique("full"),
      model: "anthropic/claude-sonnet-4-6",
      prompt: "Be careful.",
      harness_id: "claude-code",
      requirements: "requests==2.32.3\n",
      repo_url: "https://github.com/org/repo",
      branch: "feature/x",
      pfp_url: "https://example.com/a.png",
      mcp_servers: ["github", "linear"],
      allow_out: ["*.github.com"],
      deny_out: ["169.254.169.254"],
      env_vars: { GITHUB_TOKEN: "ghp_secret", DEBUG: "1" },
      sandbox_files: files,
    };
    const created = (await api("POST", AGENTS, { body })).body;
    const got = await api("GET", `${AGENTS}/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created);
    const { env_vars: _e, sandbox_files: _f, ...rest } = body;
    expect(got.body).toMatchObject(rest);
    expect(got.body.env_vars).toEqual({ GITHUB_TOKEN: SECRET_MASK, DEBUG: SECRET_MASK });
    expect(got.body.sandbox_files).toEqual([
      {
        index: 0,
        name: "a.txt",
        sandbox_path: "~/a.txt",
        content_type: "text/plain",
        size: 5,
        sha256: sha("alpha"),
      },
      {
        index: 1,
        name: "b.bin",
        sandbox_path: "/opt/data/b.bin",
        content_type: "application/octet-stream",
        size: 4,
        sha256: sha(Buffer.from([0, 1, 2, 255])),
      },
    ]);
    expect(JSON.stringify(got.body)).not.toContain(b64("alpha"));
  });

  it("GET /agents/{id}/files/{index} downloads the exact bytes", async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const agent = await createAgent({
      sandbox_files: [
        {
          name: "all bytes.bin",
          sandbox_path: "~/x.bin",
          content: b64(bytes),
          size: 256,
          content_type: "application/x-test",
        },
      ],
    });
    const dl = await api("GET", `${AGENTS}/${agent.id}/files/0`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get("content-type")).toBe("application/x-test");
    expect(dl.headers.get("content-disposition")).toContain("all%20bytes.bin");
    const raw = await rawBytes(`${AGENTS}/${agent.id}/files/0`);
    expect(Buffer.compare(raw, bytes)).toBe(0);
    expect((await api("GET", `${AGENTS}/${agent.id}/files/1`)).status).toBe(404);
    expect((await api("GET", `${AGENTS}/agt_nope/files/0`)).body.error.message).toBe(
      "agent agt_nope not found",
    );
    expect((await api("GET", `${AGENTS}/${agent.id}/files/abc`)).status).toBe(400);
  });
});

async function rawBytes(path: string): Promise<Buffer> {
  const res = await fetch(inject("baseUrl") + path, {
    headers: { authorization: `Bearer ${inject("masterKey")}` },
  });
  return Buffer.from(await res.arrayBuffer());
}

describe("GET /agents", () => {
  it("paginates, sorts and searches", async () => {
    const tag = unique("list");
    const names = ["charlie", "alpha", "bravo"].map((n) => `${tag}-${n}`);
    for (const name of names) await createAgent({ name });
    const page = await api("GET", `${AGENTS}?search=${tag}&sort=name&order=asc&limit=2`);
    expect(page.status).toBe(200);
    agentListSchema.parse(page.body);
    expect(page.body.total).toBe(3);
    expect(page.body.limit).toBe(2);
    expect(page.body.offset).toBe(0);
    expect(page.body.data.map((a: { name: string }) => a.name)).toEqual([`${tag}-alpha`, `${tag}-bravo`]);
    const next = await api("GET", `${AGENTS}?search=${tag}&sort=name&order=asc&limit=2&offset=2`);
    expect(next.body.data.map((a: { name: string }) => a.name)).toEqual([`${tag}-charlie`]);
    const newest = await api("GET", `${AGENTS}?search=${tag.toUpperCase()}`);
    expect(newest.body.data.map((a: { name: string }) => a.name)).toEqual([...names].reverse());
  });

  it("search takes % and _ literally", async () => {
    const res = await api("GET", `${AGENTS}?search=${encodeURIComponent("%_%")}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=201", "limit"],
    ["offset=-1", "offset"],
    ["sort=secret", "sort"],
    ["order=up", "order"],
  ])("?%s → 400 on query.%s", async (qs, field) => {
    const res = await api("GET", `${AGENTS}?${qs}`);
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(["query", field]);
  });
});

describe("PATCH /agents/{id}", () => {
  it("updates only the given fields and bumps the version", async () => {
    const agent = await createAgent({ prompt: "v1", mcp_servers: ["a"] });
    const res = await api("PATCH", `${AGENTS}/${agent.id}`, {
      body: { prompt: "v2", harness_id: "codex", repo_url: null },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      prompt: "v2",
      harness_id: "codex",
      supports_tui: true,
      mcp_servers: ["a"],
      version: 2,
      name: agent.name,
    });
    expect(Date.parse(res.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(agent.updated_at));
    expect(res.body.created_at).toBe(agent.created_at);
  });

  it("an empty patch changes nothing", async () => {
    const agent = await createAgent();
    const res = await api("PATCH", `${AGENTS}/${agent.id}`, { body: {} });
    expect(res.body).toEqual(agent);
  });

  it("expected_version: a stale write → 409, a fresh one succeeds", async () => {
    const agent = await createAgent();
    expect(
      (await api("PATCH", `${AGENTS}/${agent.id}`, { body: { name: "first", expected_version: 1 } })).status,
    ).toBe(200);
    const stale = await api("PATCH", `${AGENTS}/${agent.id}`, {
      body: { name: "second", expected_version: 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("conflict");
    expect(stale.body.error.message).toMatch(/version 2/);
    expect((await api("GET", `${AGENTS}/${agent.id}`)).body.name).toBe("first");
  });

  it("concurrent writers with the same expected_version: exactly one wins", async () => {
    const agent = await createAgent();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api("PATCH", `${AGENTS}/${agent.id}`, { body: { name: `w${i}`, expected_version: 1 } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
  });

  it("env_vars: the mask keeps a stored value, a new value replaces it, an absent key is removed", async () => {
    const agent = await createAgent({ env_vars: { KEEP: "k1", REPLACE: "r1", DROP: "d1" } });
    const res = await api("PATCH", `${AGENTS}/${agent.id}`, {
      body: { env_vars: { KEEP: SECRET_MASK, REPLACE: "r2", NEW: "n1" } },
    });
    expect(res.status).toBe(200);
    expect(res.body.env_vars).toEqual({ KEEP: SECRET_MASK, REPLACE: SECRET_MASK, NEW: SECRET_MASK });
  });

  it("env_vars: the mask for a key with no stored value → 400 on that key", async () => {
    const agent = await createAgent();
    const res = await api("PATCH", `${AGENTS}/${agent.id}`, { body: { env_vars: { NOPE: SECRET_MASK } } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([
      { path: ["env_vars", "NOPE"], message: "no stored value to keep; send the value" },
    ]);
  });

  it("env_vars rules apply on PATCH too", async () => {
    const agent = await createAgent();
    const res = await api("PATCH", `${AGENTS}/${agent.id}`, { body: { env_vars: { GIT_TOKEN: "x" } } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(["env_vars", "GIT_TOKEN"]);
  });

  it("sandbox_files: keep by sha256 (renamed), add new, drop the rest", async () => {
    const agent = await createAgent({
      sandbox_files: [
        { name: "keep.txt", sandbox_path: "~/keep.txt", content: b64("keep me"), size: 7 },
        { name: "drop.txt", sandbox_path: "~/drop.txt", content: b64("drop me"), size: 7 },
      ],
    });
    const kept = agent.sandbox_files[0];
    const res = await api("PATCH", `${AGENTS}/${agent.id}`, {
      body: {
        sandbox_files: [
          { name: "new.txt", sandbox_path: "/new.txt", content: b64("new"), size: 3 },
          {
            name: "kept.txt",
            sandbox_path: "~/moved/kept.txt",
            sha256: kept.sha256,
            size: 7,
            content_type: "text/plain",
          },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.sandbox_files.map((f: { name: string; index: number }) => [f.index, f.name])).toEqual([
      [0, "new.txt"],
      [1, "kept.txt"],
    ]);
    expect((await rawBytes(`${AGENTS}/${agent.id}/files/1`)).toString()).toBe("keep me");
    const unknown = await api("PATCH", `${AGENTS}/${agent.id}`, {
      body: { sandbox_files: [{ name: "x", sandbox_path: "/x", sha256: "0".repeat(64), size: 1 }] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.issues[0].path).toEqual(["sandbox_files", 0, "sha256"]);
  });

  it("unknown agent → 404", async () => {
    const res = await api("PATCH", `${AGENTS}/agt_unknown`, { body: { name: "x" } });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: "not_found", message: "agent agt_unknown not found" } });
  });
});

describe("DELETE /agents/{id}", () => {
  it("deletes (204, no body), then 404", async () => {
    const agent = await createAgent({
      sandbox_files: [{ name: "f", sandbox_path: "/f", content: b64("f"), size: 1 }],
    });
    const res = await api("DELETE", `${AGENTS}/${agent.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect((await api("GET", `${AGENTS}/${agent.id}`)).status).toBe(404);
    expect((await api("DELETE", `${AGENTS}/${agent.id}`)).status).toBe(404);
    expect((await api("GET", `${AGENTS}/${agent.id}/files/0`)).status).toBe(404);
  });
});

describe("the seed's curl example", () => {
  it("runs as written and returns the documented object", async () => {
    const { execFileSync } = await import("node:child_process");
    const body = `{
    "name": "pr-reviewer",
    "model": "anthropic/claude-sonnet-4-6",
    "prompt": "You are a senior engineer who reviews pull requests.",
    "harness_id": "claude-agent-sdk",
    "repo_url": "https://github.com/BerriAI/litellm",
    "branch": "main",
    "env_vars": {
      "GITHUB_TOKEN": "ghp_..."
    }
  }`;
    const out = execFileSync("curl", [
      "-sS",
      "-X",
      "POST",
      `${inject("baseUrl")}/api/v1/managed_agents/agents`,
      "-H",
      `Authorization: Bearer ${inject("masterKey")}`,
      "-H",
      "Content-Type: application/json",
      "-d",
      body,
    ]).toString();
    const agent = JSON.parse(out);
    expect(agent).toMatchObject({
      name: "pr-reviewer",
      model: "anthropic/claude-sonnet-4-6",
      prompt: "You are a senior engineer who reviews pull requests.",
      harness_id: "claude-agent-sdk",
      supports_tui: false,
      repo_url: "https://github.com/BerriAI/litellm",
      branch: "main",
      pfp_url: null,
      mcp_servers: [],
      attached_skill_ids: [],
      allow_out: [],
      deny_out: [],
    });
    // The one deliberate difference from the seed: secrets are write-only.
    expect(agent.env_vars).toEqual({ GITHUB_TOKEN: SECRET_MASK });
    for (const field of [
      "id",
      "name",
      "model",
      "prompt",
      "harness_id",
      "supports_tui",
      "repo_url",
      "branch",
      "pfp_url",
      "mcp_servers",
      "env_vars",
      "attached_skill_ids",
      "allow_out",
      "deny_out",
      "created_at",
    ]) {
      expect(agent).toHaveProperty(field);
    }
  });
});
