import type { Tx } from "@/db";
import { transaction } from "@/db/client";
import {
  getAgentRecord,
  insertAgent,
  insertAgentFiles,
  insertAgentVersion,
  listAgentRows,
  lockAgent,
  replaceAgentFiles,
  updateAgentRow,
  type AgentRow,
  type NewAgent,
} from "@/db/queries/agents";
import type { Reach } from "@/db/queries/scope";
import { getSkillsByIds, insertSkill } from "@/db/queries/skills";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { runtime } from "@/lib/runtime";
import type {
  Agent,
  AgentListQuery,
  AttachSkillInput,
  CreateAgentInput,
  UpdateAgentInput,
} from "@/lib/schemas/agent";
import { SECRET_MASK, type EnvVars } from "@/lib/schemas/env-vars";
import { supportsTui } from "@/lib/schemas/harness";
import type { SandboxFile } from "@/lib/schemas/sandbox-file";
import type { Skill } from "@/lib/schemas/skill";
import { sealEnv } from "@/lib/secret-box";
import { appendSkillBlock, parseSkillIds, stripSkillBlocks } from "@/lib/skill-blocks";
import { auditDiff } from "@/lib/teams/audit";

/** An agent as the API shows it: env var values masked, attached skills read from the prompt. */
function toApiAgent(row: AgentRow, files: SandboxFile[]): Agent {
  return {
    id: row.id,
    name: row.name,
    model: row.model,
    prompt: row.prompt,
    harness_id: row.harnessId,
    supports_tui: supportsTui(row.harnessId),
    requirements: row.requirements,
    repo_url: row.repoUrl,
    branch: row.branch,
    pfp_url: row.pfpUrl,
    mcp_servers: row.mcpServers,
    env_vars: Object.fromEntries(Object.keys(row.envVars).map((key) => [key, SECRET_MASK])),
    attached_skill_ids: parseSkillIds(row.prompt),
    allow_out: row.allowOut,
    deny_out: row.denyOut,
    sandbox_files: files,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

function sealAgentEnv(agentId: string, vars: EnvVars): Record<string, string> {
  return sealEnv(runtime().box, `agent:${agentId}`, vars);
}

function appendSkills(prompt: string | null, attach: Skill[]): string | null {
  return attach.reduce<string | null>((p, skill) => appendSkillBlock(p, skill.id, skill.content), prompt);
}

export async function listAgents(query: AgentListQuery, reach: Reach) {
  const page = await listAgentRows(query, reach);
  return {
    ...page,
    data: page.data.map(({ row, files, sessionCount, hasActiveSession }) => ({
      ...toApiAgent(row, files),
      session_count: sessionCount,
      has_active_session: hasActiveSession,
    })),
  };
}

export async function getAgent(id: string): Promise<Agent> {
  const { row, files } = await getAgentRecord(id);
  return toApiAgent(row, files);
}

/** The fields only the Managed Agents API sets (lib/managed/agents.ts); Hangar's own API leaves them. */
export type ManagedAgentFields = Partial<Pick<NewAgent, "description" | "metadata" | "tools" | "mcpNames">>;

export async function createAgent(
  input: CreateAgentInput,
  workspaceId: string,
  managed: ManagedAgentFields = {},
): Promise<Agent> {
  const id = newId("agent");
  const values = {
    ...managed,
    id,
    workspaceId,
    name: input.name ?? null,
    model: input.model,
    harnessId: input.harness_id,
    requirements: input.requirements ?? null,
    repoUrl: input.repo_url ?? null,
    branch: input.branch,
    pfpUrl: input.pfp_url ?? null,
    mcpServers: input.mcp_servers,
    allowOut: input.allow_out,
    denyOut: input.deny_out,
    envVars: sealAgentEnv(id, input.env_vars),
  };
  // The common case is one statement; skills and files need a transaction around several.
  if (input.skill_ids.length === 0 && input.sandbox_files.length === 0) {
    return toApiAgent(await insertAgent({ ...values, prompt: input.prompt ?? null }), []);
  }
  return transaction(async (tx) => {
    const attach = await getSkillsByIds(input.skill_ids, workspaceId, tx);
    const row = await insertAgent({ ...values, prompt: appendSkills(input.prompt ?? null, attach) }, tx);
    return toApiAgent(row, await insertAgentFiles(id, input.sandbox_files, tx));
  });
}

/** New values sealed; the mask keeps a stored value, and is refused for a key with none. */
function mergeEnv(row: AgentRow, vars: EnvVars): Record<string, string> {
  const missing = Object.keys(vars).filter((key) => vars[key] === SECRET_MASK && !(key in row.envVars));
  if (missing.length) {
    throw new ValidationError(
      `env_vars.${missing[0]}: there is no stored value to keep; send the value itself`,
      missing.map((key) => ({ path: ["env_vars", key], message: "no stored value to keep; send the value" })),
    );
  }
  const fresh = Object.fromEntries(Object.entries(vars).filter(([, value]) => value !== SECRET_MASK));
  const kept = Object.fromEntries(
    Object.keys(vars)
      .filter((key) => vars[key] === SECRET_MASK)
      .map((key) => [key, row.envVars[key] as string]),
  );
  return { ...kept, ...sealAgentEnv(row.id, fresh) };
}

function checkVersion(row: AgentRow, expected: number | undefined) {
  if (expected !== undefined && expected !== row.version) {
    throw new ConflictError(
      `agent ${row.id} is at version ${row.version}, not ${expected}: reload it and retry`,
    );
  }
}

/** The prompt with exactly the skills `skillIds` names: blocks of others go, missing ones are added. */
async function withSkills(
  prompt: string | null,
  skillIds: string[],
  workspaceId: string,
  tx: Tx,
): Promise<string | null> {
  const wanted = new Set(skillIds);
  let next = prompt;
  for (const attached of parseSkillIds(next)) {
    if (!wanted.has(attached)) next = stripSkillBlocks(next, attached);
  }
  const present = new Set(parseSkillIds(next));
  return appendSkills(
    next,
    await getSkillsByIds(
      skillIds.filter((s) => !present.has(s)),
      workspaceId,
      tx,
    ),
  );
}

/** What an agent change did, for the audit log: changed non-secret fields, and secret names touched. */
export type AgentChange = {
  changed: Record<string, { from: unknown; to: unknown }>;
  secrets_touched: string[];
};

function agentChange(before: Agent, after: Agent, env: EnvVars | undefined): AgentChange {
  const { env_vars: _b, version: _bv, updated_at: _bu, ...was } = before;
  const { env_vars: _a, version: _av, updated_at: _au, ...now } = after;
  const touched = new Set(Object.keys(env ?? {}).filter((key) => env?.[key] !== SECRET_MASK));
  if (env) for (const key of Object.keys(before.env_vars)) if (!(key in env)) touched.add(key);
  return { changed: auditDiff(was, now), secrets_touched: [...touched].sort() };
}

/** Applies a partial update; `expected_version` turns a stale write into a 409. */
export async function updateAgent(
  id: string,
  input: UpdateAgentInput,
  workspaceId: string,
  managed: ManagedAgentFields = {},
): Promise<{ agent: Agent; change: AgentChange }> {
  return transaction(async (tx) => {
    const { row, files } = await lockAgent(id, tx);
    checkVersion(row, input.expected_version);
    const { expected_version: _expected, ...fields } = input;
    const before = toApiAgent(row, files);
    if ([...Object.values(fields), ...Object.values(managed)].every((v) => v === undefined))
      return { agent: before, change: { changed: {}, secrets_touched: [] } };

    // The version being replaced is kept: sessions may pin it, and /v1/agents/{id}/versions lists it.
    await insertAgentVersion(row, tx);
    const prompt = input.prompt !== undefined ? input.prompt : row.prompt;
    const updated = await updateAgentRow(
      id,
      {
        ...managed,
        name: input.name,
        model: input.model,
        prompt: input.skill_ids ? await withSkills(prompt, input.skill_ids, workspaceId, tx) : prompt,
        harnessId: input.harness_id,
        requirements: input.requirements,
        repoUrl: input.repo_url,
        branch: input.branch,
        pfpUrl: input.pfp_url,
        mcpServers: input.mcp_servers,
        allowOut: input.allow_out,
        denyOut: input.deny_out,
        envVars: input.env_vars && mergeEnv(row, input.env_vars),
        version: row.version + 1,
      },
      tx,
    );
    const meta = input.sandbox_files ? await replaceAgentFiles(id, input.sandbox_files, tx) : files;
    const agent = toApiAgent(updated, meta);
    return { agent, change: agentChange(before, agent, input.env_vars) };
  });
}

async function setPrompt(row: AgentRow, prompt: string | null, tx: Tx) {
  await insertAgentVersion(row, tx);
  return updateAgentRow(row.id, { prompt, version: row.version + 1 }, tx);
}

/** Attaches a library skill, or an inline one (saved to the library unless asked not to). */
export async function attachSkill(agentId: string, input: AttachSkillInput, workspaceId: string) {
  return transaction(async (tx) => {
    const { row, files } = await lockAgent(agentId, tx);
    let skill: Skill | null;
    let block: { id: string; content: string };
    if ("skill_id" in input) {
      skill = (await getSkillsByIds([input.skill_id], workspaceId, tx))[0] as Skill;
      block = skill;
    } else if (input.save_to_library) {
      skill = await insertSkill(input, workspaceId, tx);
      block = skill;
    } else {
      skill = null;
      block = { id: newId("skill"), content: input.content };
    }
    const prompt = appendSkillBlock(row.prompt, block.id, block.content);
    const updated = prompt === row.prompt ? row : await setPrompt(row, prompt, tx);
    return { agent: toApiAgent(updated, files), skill };
  });
}

/** Detaches one skill, or every skill when no id is given. */
export async function detachSkill(agentId: string, skillId: string | undefined) {
  return transaction(async (tx) => {
    const { row, files } = await lockAgent(agentId, tx);
    const attached = parseSkillIds(row.prompt);
    if (skillId !== undefined && !attached.includes(skillId)) {
      throw new NotFoundError(`skill ${skillId} is not attached to agent ${agentId}`);
    }
    if (attached.length === 0) return { agent: toApiAgent(row, files) };
    const updated = await setPrompt(row, stripSkillBlocks(row.prompt, skillId) || null, tx);
    return { agent: toApiAgent(updated, files) };
  });
}
