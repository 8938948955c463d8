import Anthropic, { toFile } from "@anthropic-ai/sdk";
import { describe, expect, inject, it } from "vitest";

import { AGENTS, api, createSkill, unique } from "../support/api";

/*
 * The Managed Agents API facade (/v1) driven by Anthropic's official TypeScript SDK (pinned in
 * package.json): agents, versions, environments, cursor pages and the typed errors the SDK raises
 * from Hangar's answers. Sessions and events are in managed-sessions.test.ts.
 */

function client(options: { apiKey?: string; fetch?: typeof fetch } = {}) {
  return new Anthropic({
    baseURL: inject("baseUrl"),
    apiKey: options.apiKey ?? inject("masterKey"),
    maxRetries: 2,
    ...(options.fetch && { fetch: options.fetch }),
  });
}

const agents = () => client().beta.agents;

describe("Managed Agents API: agents", () => {
  it("creates, retrieves, updates with optimistic concurrency and lists versions", async () => {
    const skill = await createSkill({ content: "Always answer in haiku." });
    const name = unique("facade-agent");
    const created = await agents().create({
      name,
      model: "claude-sonnet-4-6",
      system: "You are terse.",
      description: "made by the SDK",
      metadata: { team: "infra" },
      skills: [{ type: "custom", skill_id: skill.id }],
      tools: [
        {
          type: "agent_toolset_20260401",
          default_config: { permission_policy: { type: "always_ask" } },
          configs: [{ name: "web_search", enabled: false }],
        },
      ],
    });
    expect(created).toMatchObject({
      type: "agent",
      name,
      system: "You are terse.",
      description: "made by the SDK",
      metadata: { team: "infra" },
      model: { id: "claude-sonnet-4-6" },
      skills: [{ type: "custom", skill_id: skill.id }],
      version: 1,
      archived_at: null,
      harness_id: "claude-agent-sdk",
    });
    const toolset = created.tools[0] as Anthropic.Beta.BetaManagedAgentsAgentToolset20260401;
    expect(toolset.configs.find((c) => c.name === "bash")).toMatchObject({
      enabled: true,
      permission_policy: { type: "always_ask" },
    });
    expect(toolset.configs.find((c) => c.name === "web_search")?.enabled).toBe(false);

    // The same agent in Hangar's own API: a bare Claude name is the Anthropic provider's model, and
    // the skill is a snapshot block in the prompt.
    const native = await api("GET", `${AGENTS}/${created.id}`);
    expect(native.body).toMatchObject({
      model: "anthropic/claude-sonnet-4-6",
      harness_id: "claude-agent-sdk",
    });
    expect(native.body.attached_skill_ids).toEqual([skill.id]);
    expect(native.body.prompt).toContain("Always answer in haiku.");

    const updated = await agents().update(created.id, {
      version: 1,
      system: "You are very terse.",
      metadata: { team: null, tier: "gold" },
    });
    expect(updated).toMatchObject({ version: 2, system: "You are very terse.", metadata: { tier: "gold" } });
    expect(updated.skills.map((s) => s.skill_id)).toEqual([skill.id]);

    // A stale version is a conflict, raised at once: the answer says not to retry.
    let calls = 0;
    const counting: typeof fetch = async (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const stale = client({ fetch: counting }).beta.agents.update(created.id, { version: 1, name: "late" });
    await expect(stale).rejects.toBeInstanceOf(Anthropic.ConflictError);
    expect(calls).toBe(1);

    expect((await agents().retrieve(created.id, { version: 1 })).system).toBe("You are terse.");
    const versions = [];
    for await (const v of agents().versions.list(created.id, { limit: 1 })) versions.push(v.version);
    expect(versions).toEqual([2, 1]);
  });

  it("pages with cursors and hides archived agents unless asked", async () => {
    const made = [];
    for (let i = 0; i < 3; i++)
      made.push(await agents().create({ name: unique("page"), model: "claude-haiku-4-5" }));
    const first = await agents().list({ limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.next_page).toEqual(expect.any(String));
    const seen: string[] = [];
    for await (const agent of agents().list({ limit: 2 })) seen.push(agent.id);
    expect(new Set(seen).size).toBe(seen.length);
    for (const agent of made) expect(seen).toContain(agent.id);

    const archived = await agents().archive(made[0]!.id);
    expect(archived.archived_at).toEqual(expect.any(String));
    const visible: string[] = [];
    for await (const agent of agents().list({ limit: 100 })) visible.push(agent.id);
    expect(visible).not.toContain(made[0]!.id);
    // A filter Hangar does not apply is refused, not ignored.
    await expect(agents().list({ "created_at[gte]": "2026-01-01T00:00:00Z" })).rejects.toBeInstanceOf(
      Anthropic.BadRequestError,
    );
    const all: string[] = [];
    for await (const agent of agents().list({ limit: 100, include_archived: true })) all.push(agent.id);
    expect(all).toContain(made[0]!.id);
  });

  it("refuses what Hangar cannot do with a 400 the SDK raises as BadRequestError", async () => {
    const custom = agents().create({
      name: unique("custom"),
      model: "claude-sonnet-4-6",
      tools: [{ type: "custom", name: "lookup", description: "d", input_schema: { type: "object" } }],
    });
    await expect(custom).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(custom).rejects.toMatchObject({ error: { error: { type: "invalid_request_error" } } });
    const hosted = agents().create({
      name: unique("hosted"),
      model: "claude-sonnet-4-6",
      skills: [{ type: "anthropic", skill_id: "xlsx" }],
    });
    await expect(hosted).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe("Managed Agents API: environments", () => {
  it("creates, updates, archives, lists and deletes", async () => {
    const environments = client().beta.environments;
    const env = await environments.create({
      name: unique("env"),
      config: {
        type: "cloud",
        networking: { type: "limited", allowed_hosts: ["api.github.com"], allow_package_managers: true },
        packages: { pip: ["requests==2.32.3"] },
      },
      metadata: { purpose: "ci" },
    });
    expect(env).toMatchObject({
      type: "environment",
      config: {
        type: "cloud",
        networking: {
          type: "limited",
          allowed_hosts: ["api.github.com"],
          allow_package_managers: true,
          allow_mcp_servers: false,
        },
        packages: { pip: ["requests==2.32.3"], npm: [] },
      },
      metadata: { purpose: "ci" },
      archived_at: null,
    });
    const renamed = await environments.update(env.id, { description: "for CI", metadata: { purpose: null } });
    expect(renamed).toMatchObject({ description: "for CI", metadata: {} });
    expect((await environments.archive(env.id)).archived_at).toEqual(expect.any(String));
    const listed: string[] = [];
    for await (const e of environments.list({ include_archived: true })) listed.push(e.id);
    expect(listed).toContain(env.id);
    expect(await environments.delete(env.id)).toEqual({ id: env.id, type: "environment_deleted" });
    await expect(environments.retrieve(env.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);

    const npm = environments.create({
      name: unique("npm"),
      config: { type: "cloud", packages: { npm: ["left-pad"] } },
    });
    await expect(npm).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe("Managed Agents API: skills", () => {
  it("uploads a SKILL.md as a library skill an agent can attach", async () => {
    const skills = client().beta.skills;
    const name = unique("skill");
    const markdown = `---\nname: ${name}\ndescription: Writes release notes\n---\n# Release notes\n\nList every change.\n`;
    const created = await skills.create({ files: [await toFile(Buffer.from(markdown), "SKILL.md")] });
    expect(created).toMatchObject({
      type: "skill",
      display_name: name,
      source: { type: "custom" },
      latest_version_id: "1",
    });
    const native = await api("GET", `/api/v1/skills/${created.id}`);
    expect(native.body).toMatchObject({ name, description: "Writes release notes" });
    expect(native.body.content).toContain("List every change.");
    expect(await skills.retrieve(created.id)).toEqual(created);
    const listed: string[] = [];
    for await (const skill of skills.list({ limit: 2 })) listed.push(skill.id);
    expect(listed).toContain(created.id);

    const agent = await agents().create({
      name: unique("with-skill"),
      model: "claude-sonnet-4-6",
      skills: [{ type: "custom", skill_id: created.id }],
    });
    expect(agent.skills).toEqual([{ type: "custom", skill_id: created.id, version: "latest" }]);

    const named = await skills.create({
      display_name: unique("renamed"),
      files: [await toFile(Buffer.from("Just a body."), "tools/SKILL.md")],
    });
    expect(named.display_name).toMatch(/^renamed-/);
    const wrong = skills.create({ files: [await toFile(Buffer.from("x"), "notes.txt")] });
    await expect(wrong).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    expect(await skills.delete(named.id)).toEqual({ id: named.id, type: "skill_deleted" });
    await expect(skills.retrieve(named.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});

describe("Managed Agents API: vaults", () => {
  it("keeps credentials write-only and refuses kinds Hangar cannot apply", async () => {
    const vaults = client().beta.vaults;
    const vault = await vaults.create({ display_name: unique("vault") });
    expect(vault).toMatchObject({ type: "vault", archived_at: null });
    expect(await vaults.update(vault.id, { metadata: { a: "1" } })).toMatchObject({ metadata: { a: "1" } });
    const auth = {
      type: "environment_variable" as const,
      secret_name: "API_TOKEN",
      secret_value: "first-value",
      networking: { type: "unrestricted" as const },
    };
    const credential = await vaults.credentials.create(vault.id, { auth });
    expect(JSON.stringify(credential)).not.toContain("first-value");
    const updated = await vaults.credentials.update(credential.id, {
      vault_id: vault.id,
      auth: { type: "environment_variable", secret_value: "second-value" },
      metadata: { rotated: "yes" },
    });
    expect(JSON.stringify(updated)).not.toContain("second-value");
    expect(updated.metadata).toEqual({ rotated: "yes" });
    const archived = await vaults.credentials.archive(credential.id, { vault_id: vault.id });
    expect(archived.archived_at).toEqual(expect.any(String));
    expect((await vaults.credentials.list(vault.id)).data).toEqual([]);
    expect((await vaults.credentials.list(vault.id, { include_archived: true })).data).toHaveLength(1);

    const bad = [
      { ...auth, secret_name: "LITELLM_API_KEY" },
      { ...auth, networking: { type: "limited" as const, allowed_hosts: ["api.example.com"] } },
      { type: "static_bearer" as const, token: "t", mcp_server_url: "https://mcp.example.com" },
    ];
    for (const attempt of bad) {
      await expect(vaults.credentials.create(vault.id, { auth: attempt })).rejects.toBeInstanceOf(
        Anthropic.BadRequestError,
      );
    }
    // Another vault's id does not reach this credential.
    const other = await vaults.create({ display_name: unique("other") });
    await expect(vaults.credentials.retrieve(credential.id, { vault_id: other.id })).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    expect(await vaults.credentials.delete(credential.id, { vault_id: vault.id })).toEqual({
      id: credential.id,
      type: "vault_credential_deleted",
    });
    expect(await vaults.delete(vault.id)).toEqual({ id: vault.id, type: "vault_deleted" });
    await expect(vaults.retrieve(vault.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});

describe("Managed Agents API: errors and auth", () => {
  it("answers in Anthropic's envelope, so the SDK raises its typed errors", async () => {
    await expect(client({ apiKey: "wrong" }).beta.agents.list()).rejects.toBeInstanceOf(
      Anthropic.AuthenticationError,
    );
    await expect(agents().retrieve("agt_nope")).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const res = await api("GET", "/v1/agents?beta=true", {
      key: null,
      headers: {
        "x-api-key": inject("masterKey"),
        "anthropic-beta": "managed-agents-2026-04-01",
        "anthropic-version": "2023-06-01",
      },
    });
    expect(res.status).toBe(200);
    const unknown = await api("GET", "/v1/nothing-here");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    expect(unknown.headers.get("request-id")).toBe(unknown.body.request_id);
    const stranger = await api("GET", "/v1/nothing-here", { key: null });
    expect(stranger.status).toBe(401);
    expect(stranger.body.error.type).toBe("authentication_error");
    // Hangar's own API keeps its envelope.
    expect((await api("GET", "/api/v1/nope")).body.error.code).toBe("not_found");
  });

  it("a workspace's key sees only its workspace, as in Hangar's API", async () => {
    const ws = await api("POST", "/api/v1/workspaces", { body: { name: unique("ws") } });
    expect(ws.status).toBe(201);
    const key = await api("POST", "/api/v1/api_keys", {
      body: { name: unique("k"), role: "admin" },
      headers: { "hangar-workspace": ws.body.id },
    });
    expect(key.status).toBe(201);
    const theirs = client({ apiKey: key.body.key }).beta.agents;
    const mine = await agents().create({ name: unique("mine"), model: "claude-sonnet-4-6" });
    await expect(theirs.retrieve(mine.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const made = await theirs.create({ name: unique("theirs"), model: "claude-sonnet-4-6" });
    const listed: string[] = [];
    for await (const agent of theirs.list()) listed.push(agent.id);
    expect(listed).toEqual([made.id]);
    // The master key picks the workspace with the SDK's own option.
    const scoped = client().beta.agents.retrieve(made.id, { workspace_id: ws.body.id });
    await expect(scoped).resolves.toMatchObject({ id: made.id });
  });
});
