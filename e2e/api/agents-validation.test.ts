import { describe, expect, it } from "vitest";

import { AGENTS, api, b64, createAgent } from "../support/api";

const ok = { model: "anthropic/claude-sonnet-4-6" };

type Case = { name: string; body: Record<string, unknown>; path: (string | number)[]; message?: RegExp };

const big = (bytes: number) => "x".repeat(bytes);
const manyKeys = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`K${i}`, "v"]));
const file = (over: Record<string, unknown> = {}) => ({
  name: "notes.txt",
  sandbox_path: "~/notes.txt",
  content: b64("hello"),
  size: 5,
  ...over,
});

// Each rule of the seed, and the ones Hangar adds, with the field the 400 must point at.
const cases: Case[] = [
  { name: "model missing", body: {}, path: ["model"] },
  { name: "model empty", body: { model: "" }, path: ["model"], message: /required/ },
  { name: "model blank", body: { model: "   " }, path: ["model"] },
  { name: "model with spaces", body: { model: "gpt 4" }, path: ["model"] },
  { name: "model not a string", body: { model: 42 }, path: ["model"] },
  { name: "name too long", body: { ...ok, name: big(129) }, path: ["name"] },
  {
    name: "harness unknown",
    body: { ...ok, harness_id: "hermes" },
    path: ["harness_id"],
    message: /opencode, claude-agent-sdk, claude-code, codex/,
  },
  { name: "repo_url not a URL", body: { ...ok, repo_url: "github.com/org/repo" }, path: ["repo_url"] },
  {
    name: "repo_url http",
    body: { ...ok, repo_url: "http://github.com/org/repo" },
    path: ["repo_url"],
    message: /https/,
  },
  {
    name: "repo_url with credentials",
    body: { ...ok, repo_url: "https://user:tok@github.com/o/r" },
    path: ["repo_url"],
    message: /credentials/,
  },
  { name: "branch option-like", body: { ...ok, branch: "--upload-pack=evil" }, path: ["branch"] },
  { name: "branch climbing", body: { ...ok, branch: "a/../b" }, path: ["branch"] },
  { name: "branch with space", body: { ...ok, branch: "my branch" }, path: ["branch"] },
  { name: "mcp_servers not strings", body: { ...ok, mcp_servers: [1] }, path: ["mcp_servers", 0] },
  { name: "allow_out URL", body: { ...ok, allow_out: ["https://github.com"] }, path: ["allow_out", 0] },
  { name: "allow_out with path", body: { ...ok, allow_out: ["github.com/org"] }, path: ["allow_out", 0] },
  { name: "allow_out with port", body: { ...ok, allow_out: ["github.com:443"] }, path: ["allow_out", 0] },
  { name: "allow_out bare star", body: { ...ok, allow_out: ["*"] }, path: ["allow_out", 0] },
  { name: "allow_out inner wildcard", body: { ...ok, allow_out: ["api.*.com"] }, path: ["allow_out", 0] },
  { name: "allow_out bad IPv4", body: { ...ok, allow_out: ["256.1.1.1"] }, path: ["allow_out", 0] },
  { name: "deny_out bad CIDR bits", body: { ...ok, deny_out: ["10.0.0.0/33"] }, path: ["deny_out", 0] },
  { name: "deny_out bad IPv6", body: { ...ok, deny_out: ["2001:db8::1::2"] }, path: ["deny_out", 0] },
  {
    name: "env key starts with digit",
    body: { ...ok, env_vars: { "1ABC": "x" } },
    path: ["env_vars", "1ABC"],
  },
  { name: "env key with dash", body: { ...ok, env_vars: { "MY-KEY": "x" } }, path: ["env_vars", "MY-KEY"] },
  { name: "env value not a string", body: { ...ok, env_vars: { KEY: 1 } }, path: ["env_vars", "KEY"] },
  {
    name: "env more than 50 keys",
    body: { ...ok, env_vars: manyKeys },
    path: ["env_vars"],
    message: /at most 50/,
  },
  {
    name: "env over 16 KB",
    body: { ...ok, env_vars: { BIG: big(16 * 1024) } },
    path: ["env_vars"],
    message: /16384/,
  },
  ...[
    "REPO_URL",
    "BRANCH",
    "LITELLM_API_KEY",
    "LITELLM_API_BASE",
    "LITELLM_DEFAULT_MODEL",
    "AGENT_PROMPT",
    "PORT",
    "GIT_TOKEN",
    "AGENT_REQUIREMENTS",
  ].map((key): Case => ({
    name: `env reserved ${key}`,
    body: { ...ok, env_vars: { [key]: "x" } },
    path: ["env_vars", key],
    message: new RegExp(`${key} is reserved`),
  })),
  { name: "skill_ids repeated", body: { ...ok, skill_ids: ["skl_a", "skl_a"] }, path: ["skill_ids"] },
  {
    name: "files more than 20",
    body: { ...ok, sandbox_files: Array.from({ length: 21 }, (_, i) => file({ sandbox_path: `/f${i}` })) },
    path: ["sandbox_files"],
    message: /at most 20/,
  },
  {
    name: "files over 10 MB of base64",
    body: {
      ...ok,
      sandbox_files: [
        file({ content: b64(Buffer.alloc(6 * 1024 * 1024)), size: 6 * 1024 * 1024 }),
        file({ sandbox_path: "/b", content: b64(Buffer.alloc(2 * 1024 * 1024)), size: 2 * 1024 * 1024 }),
      ],
    },
    path: ["sandbox_files"],
    message: /10 MB/,
  },
  {
    name: "file relative path",
    body: { ...ok, sandbox_files: [file({ sandbox_path: "notes.txt" })] },
    path: ["sandbox_files", 0, "sandbox_path"],
  },
  {
    name: "file ~user path",
    body: { ...ok, sandbox_files: [file({ sandbox_path: "~root/x" })] },
    path: ["sandbox_files", 0, "sandbox_path"],
  },
  {
    name: "file .. segment",
    body: { ...ok, sandbox_files: [file({ sandbox_path: "~/../etc/passwd" })] },
    path: ["sandbox_files", 0, "sandbox_path"],
    message: /\.\./,
  },
  {
    name: "file folder path",
    body: { ...ok, sandbox_files: [file({ sandbox_path: "/tmp/" })] },
    path: ["sandbox_files", 0, "sandbox_path"],
  },
  {
    name: "file bad base64",
    body: { ...ok, sandbox_files: [file({ content: "not base64!" })] },
    path: ["sandbox_files", 0, "content"],
    message: /base64/,
  },
  {
    name: "file size mismatch",
    body: { ...ok, sandbox_files: [file({ size: 6 })] },
    path: ["sandbox_files", 0, "size"],
    message: /decodes to 5/,
  },
  {
    name: "file duplicate path",
    body: { ...ok, sandbox_files: [file(), file()] },
    path: ["sandbox_files", 1, "sandbox_path"],
  },
  {
    name: "file without name",
    body: { ...ok, sandbox_files: [file({ name: "" })] },
    path: ["sandbox_files", 0, "name"],
  },
  {
    name: "file bad content type",
    body: { ...ok, sandbox_files: [file({ content_type: "text" })] },
    path: ["sandbox_files", 0, "content_type"],
  },
];

describe("POST /agents – validation", () => {
  it.each(cases)("$name → 400 on the field", async ({ body, path, message }) => {
    const res = await api("POST", AGENTS, { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(typeof res.body.error.message).toBe("string");
    const issue = res.body.error.issues.find(
      (i: { path: unknown[] }) => JSON.stringify(i.path) === JSON.stringify(path),
    );
    expect(issue, `issues: ${JSON.stringify(res.body.error.issues)}`).toBeTruthy();
    if (message) expect(issue.message).toMatch(message);
    expect(Object.keys(res.body)).toEqual(["error"]);
  });

  it("malformed JSON → 400 bad_request", async () => {
    const res = await api("POST", AGENTS, {
      raw: '{"model": ',
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: "bad_request", message: "request body is not valid JSON" } });
  });

  it("a JSON array body → 400 validation_failed", async () => {
    const res = await api("POST", AGENTS, { raw: "[1,2]" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
  });

  it("a body over 12 MB → 413 without reading it all", async () => {
    const res = await api("POST", AGENTS, {
      raw: JSON.stringify({ model: "m", prompt: big(13 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("unknown skill id → 404 naming it", async () => {
    const res = await api("POST", AGENTS, { body: { ...ok, skill_ids: ["skl_missing1"] } });
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: "not_found", message: "skill not found: skl_missing1" });
  });

  it("accepts every valid egress form", async () => {
    const rules = [
      "github.com",
      "*.github.com",
      "localhost",
      "10.0.0.1",
      "10.0.0.0/8",
      "::1",
      "2001:db8::/32",
      "fe80::1",
      "::ffff:10.0.0.1",
    ];
    const agent = await createAgent({ allow_out: rules, deny_out: ["evil.example.com"] });
    expect(agent.allow_out).toEqual(rules);
    expect(agent.deny_out).toEqual(["evil.example.com"]);
  });

  it("accepts exactly 50 keys and exactly 20 files", async () => {
    const vars = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`K${i}`, "v"]));
    const files = Array.from({ length: 20 }, (_, i) => file({ sandbox_path: `/work/f${i}` }));
    const agent = await createAgent({ env_vars: vars, sandbox_files: files });
    expect(Object.keys(agent.env_vars)).toHaveLength(50);
    expect(agent.sandbox_files).toHaveLength(20);
  });

  it("no route ever answers 500 for bad input", async () => {
    const junk: unknown[] = [
      null,
      1,
      "s",
      true,
      { model: null },
      { model: {} },
      { env_vars: [] },
      { sandbox_files: {} },
      { skill_ids: "x" },
      { model: "m", sandbox_files: [null] },
    ];
    for (const body of junk) {
      const res = await api("POST", AGENTS, { raw: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});
