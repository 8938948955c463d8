import {
  archiveAgentRow,
  getAgentRecord,
  getAgentVersion,
  listAgentPage,
  listAgentVersions,
} from "@/db/queries/agents";
import type { Reach } from "@/db/queries/scope";
import type { AgentSnapshot } from "@/db/schema";
import { createAgent, updateAgent } from "@/lib/agents/service";
import { NotFoundError, ValidationError } from "@/lib/errors";
import type { UpdateAgentInput } from "@/lib/schemas/agent";
import type {
  CreateManagedAgentInput,
  ManagedAgent,
  UpdateManagedAgentInput,
} from "@/lib/schemas/managed-agent";
import { mergeMetadata, type CursorQuery } from "@/lib/schemas/managed-common";
import { basePrompt, parseSkillIds, withBasePrompt } from "@/lib/skill-blocks";

import { DEFAULT_TOOLS, normalizeTools } from "./tools";

/*
 * /v1/agents: Anthropic's agent object over Hangar's agent. The harness, prompt, model, MCP servers
 * and skills are Hangar's own fields (the same agent in the builder and at /api/v1); description,
 * metadata and toolsets are columns only this API writes.
 */

type AgentView = Omit<AgentSnapshot, "updatedAt"> & {
  createdAt: Date | string;
  updatedAt: Date | string;
  archivedAt: Date | string | null;
};

const iso = (d: Date | string) => (typeof d === "string" ? d : d.toISOString());

/** A bare Claude model name goes to the Anthropic provider; a provider/model name is kept. */
export function modelFrom(input: CreateManagedAgentInput["model"]): string {
  const id = typeof input === "string" ? input : input.id;
  return !id.includes("/") && id.startsWith("claude-") ? `anthropic/${id}` : id;
}

export function presentModelId(model: string): string {
  return model.startsWith("anthropic/") ? model.slice("anthropic/".length) : model;
}

function mcpServersOf(view: Pick<AgentView, "mcpServers" | "mcpNames">) {
  return view.mcpServers.map((entry) => ({
    type: "url" as const,
    name: view.mcpNames[entry] ?? entry.replace(/^https?:\/\//, "").replace(/[^A-Za-z0-9_-]+/g, "-"),
    url: entry,
  }));
}

export function presentAgent(view: AgentView): ManagedAgent {
  return {
    id: view.id,
    type: "agent",
    name: view.name ?? view.id,
    description: view.description,
    system: basePrompt(view.prompt) || null,
    model: { id: presentModelId(view.model), speed: "standard" },
    mcp_servers: mcpServersOf(view),
    skills: parseSkillIds(view.prompt).map((id) => ({ type: "custom", skill_id: id, version: "latest" })),
    tools: view.tools.length ? view.tools : DEFAULT_TOOLS,
    metadata: view.metadata,
    execution_identity: { type: "service_account" },
    multiagent: null,
    harness_id: view.harnessId,
    version: view.version,
    created_at: iso(view.createdAt),
    updated_at: iso(view.updatedAt),
    archived_at: view.archivedAt ? iso(view.archivedAt) : null,
  };
}

function skillIdsOf(skills: CreateManagedAgentInput["skills"]): string[] | undefined {
  if (!skills) return undefined;
  const anthropic = skills.findIndex((s) => s.type === "anthropic");
  if (anthropic >= 0) {
    throw new ValidationError(
      `skills.${anthropic}: Anthropic-hosted skills are not available; use a custom skill`,
      [
        {
          path: ["skills", anthropic, "type"],
          message: "use custom skills (POST /v1/skills or /api/v1/skills)",
        },
      ],
    );
  }
  return skills.map((s) => s.skill_id);
}

function mcpFrom(servers: NonNullable<CreateManagedAgentInput["mcp_servers"]>) {
  const names = servers.map((s) => s.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ValidationError(`mcp_servers: the name ${dup} is used twice`, []);
  return { urls: servers.map((s) => s.url), names: Object.fromEntries(servers.map((s) => [s.url, s.name])) };
}

export async function createManagedAgent(input: CreateManagedAgentInput, workspaceId: string) {
  const mcp = mcpFrom(input.mcp_servers ?? []);
  const tools = normalizeTools(input.tools ?? [], Object.values(mcp.names));
  const agent = await createAgent(
    {
      model: modelFrom(input.model),
      name: input.name,
      prompt: input.system ?? null,
      harness_id: input.harness_id,
      branch: "main",
      mcp_servers: mcp.urls,
      allow_out: [],
      deny_out: [],
      env_vars: {},
      skill_ids: skillIdsOf(input.skills) ?? [],
      sandbox_files: [],
    },
    workspaceId,
    { description: input.description ?? null, metadata: input.metadata ?? {}, tools, mcpNames: mcp.names },
  );
  return getManagedAgent(agent.id);
}

export async function getManagedAgent(id: string, version?: number): Promise<ManagedAgent> {
  const { row } = await getAgentRecord(id);
  if (version === undefined || version === row.version) return presentAgent(row);
  const snapshot = await getAgentVersion(id, version);
  if (!snapshot) throw new NotFoundError(`agent ${id} has no version ${version}`);
  return presentAgent({ ...snapshot, createdAt: row.createdAt, archivedAt: null });
}

export async function updateManagedAgent(id: string, input: UpdateManagedAgentInput, workspaceId: string) {
  const { row } = await getAgentRecord(id);
  const mcp = input.mcp_servers !== undefined ? mcpFrom(input.mcp_servers ?? []) : null;
  const names = mcp ? Object.values(mcp.names) : Object.values(row.mcpNames);
  const patch: UpdateAgentInput = {
    name: input.name,
    model: input.model === undefined ? undefined : modelFrom(input.model),
    // `system` replaces the text a person wrote; attached skills keep their blocks.
    prompt: input.system === undefined ? undefined : withBasePrompt(row.prompt, input.system) || null,
    harness_id: input.harness_id,
    mcp_servers: mcp?.urls,
    skill_ids: input.skills === undefined ? undefined : (skillIdsOf(input.skills ?? []) ?? []),
    expected_version: input.version,
  };
  await updateAgent(id, patch, workspaceId, {
    description: input.description,
    metadata: input.metadata === undefined ? undefined : mergeMetadata(row.metadata, input.metadata),
    tools: input.tools === undefined ? undefined : normalizeTools(input.tools ?? [], names),
    mcpNames: mcp?.names,
  });
  return getManagedAgent(id);
}

export async function listManagedAgents(query: CursorQuery, reach: Reach) {
  const page = await listAgentPage(query, reach);
  return { data: page.data.map(({ row }) => presentAgent(row)), next_page: page.next_page };
}

export async function archiveManagedAgent(id: string) {
  return presentAgent((await archiveAgentRow(id)).row);
}

/** Every version of the agent, newest first: the live row, then the versions it replaced. */
export async function listManagedAgentVersions(id: string, query: { limit: number; page?: string }) {
  const { row } = await getAgentRecord(id);
  const before = query.page ? Number.parseInt(query.page.replace(/^v/, ""), 10) : null;
  if (before !== null && !Number.isInteger(before))
    throw new ValidationError("page: not a cursor this list gave out", []);
  const fromLive = before === null ? [presentAgent(row)] : [];
  const older = await listAgentVersions(id, query.limit, before ?? row.version);
  const views = [
    ...fromLive,
    ...older.map((s) => presentAgent({ ...s, createdAt: row.createdAt, archivedAt: null })),
  ];
  const data = views.slice(0, query.limit);
  const more = views.length > query.limit;
  return { data, next_page: more ? `v${data.at(-1)!.version}` : null };
}
