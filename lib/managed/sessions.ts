import { getAgentRecord, getAgentVersion } from "@/db/queries/agents";
import { getEnvironmentRow } from "@/db/queries/environments";
import type { Reach } from "@/db/queries/scope";
import {
  deleteSessionRow,
  getSessionRow,
  listSessionPage,
  openTurnId,
  sessionTokenTotals,
  setSessionFields,
  type SessionRow,
} from "@/db/queries/sessions";
import type { AgentSnapshot, SessionConfig } from "@/db/schema";
import { ValidationError } from "@/lib/errors";
import type { TtyHolder } from "@/lib/pty/tokens";
import { branchProblem, repoUrlProblem } from "@/lib/schemas/agent";
import { mergeMetadata } from "@/lib/schemas/managed-common";
import type {
  CreateManagedSessionInput,
  ManagedSession,
  ManagedSessionListQuery,
  ManagedSessionStatus,
  UpdateManagedSessionInput,
} from "@/lib/schemas/managed-session";
import { createSession, deleteSession } from "@/lib/sessions/service";

import { presentAgent } from "./agents";
import { sessionSettings } from "./environments";
import { harnessPermissions } from "./tools";
import { vaultEnvironment } from "./vaults";

/*
 * /v1/sessions: Anthropic's session object over Hangar's session. A session made here is an
 * ordinary Hangar session (the sessions list, the viewer, /api/v1 all show it); the environment, the
 * pinned agent version and the metadata are what this API adds.
 */

export function managedStatus(row: SessionRow, turnOpen: boolean): ManagedSessionStatus {
  if (row.status === "creating") return "rescheduling";
  if (row.status === "ready") return turnOpen ? "running" : "idle";
  return "terminated";
}

function invalid(path: (string | number)[], message: string): never {
  throw new ValidationError(`${path.join(".")}: ${message}`, [{ path, message }]);
}

async function agentConfigAt(agentId: string, version: number | undefined) {
  const { row } = await getAgentRecord(agentId);
  if (row.archivedAt) invalid(["agent"], `agent ${agentId} is archived; new sessions cannot use it`);
  if (version === undefined || version === row.version) return { row, snapshot: null };
  const snapshot = await getAgentVersion(agentId, version);
  if (!snapshot) invalid(["agent", "version"], `agent ${agentId} has no version ${version}`);
  return { row, snapshot };
}

/** The repository resource as the session's clone: its URL, branch and (never stored) token. */
function repositoryOf(input: CreateManagedSessionInput) {
  const resource = input.resources?.[0];
  if (!resource) return null;
  if (resource.type !== "github_repository")
    invalid(["resources", 0, "type"], `${resource.type} resources are not supported yet`);
  const repo = resource as Extract<
    NonNullable<CreateManagedSessionInput["resources"]>[number],
    { type: "github_repository" }
  >;
  const urlProblem = repoUrlProblem(repo.url);
  if (urlProblem) invalid(["resources", 0, "url"], urlProblem);
  if (repo.checkout?.type === "commit")
    invalid(["resources", 0, "checkout"], "commit checkouts are not supported yet; use a branch");
  if (repo.mount_path && repo.mount_path !== "/workspace")
    invalid(["resources", 0, "mount_path"], "repositories are cloned into the workspace");
  const branch = repo.checkout?.type === "branch" ? repo.checkout.name : null;
  const problem = branch ? branchProblem(branch) : null;
  if (problem) invalid(["resources", 0, "checkout", "name"], problem);
  return { url: repo.url, branch, token: repo.authorization_token ?? null };
}

/** The agent a create names: its id and the version to pin (the current one when absent). */
export function agentRefOf(input: CreateManagedSessionInput): { agentId: string; version?: number } {
  const ref = input.agent;
  if (typeof ref === "string") return { agentId: ref };
  if (ref.type === "agent_with_overrides") {
    invalid(["agent", "type"], "agent_with_overrides is not supported yet; update the agent instead");
  }
  const { id, version } = ref as { id: string; version?: number };
  return version === undefined ? { agentId: id } : { agentId: id, version };
}

/** Creates the session; the caller has checked that the agent and the environment are in its reach. */
export async function createManagedSession(
  input: CreateManagedSessionInput,
  holder: TtyHolder,
): Promise<ManagedSession> {
  const { agentId, version } = agentRefOf(input);
  const environment = await getEnvironmentRow(input.environment_id);
  if (environment.archivedAt) invalid(["environment_id"], `environment ${environment.id} is archived`);
  const { row: agent, snapshot } = await agentConfigAt(agentId, version);
  const source = snapshot ?? agent;
  const settings = sessionSettings(environment.config, source.mcpServers);
  const repo = repositoryOf(input);
  const vaultIds = input.vault_ids ?? [];
  const env = await vaultEnvironment(vaultIds, environment.workspaceId);
  const config: Partial<SessionConfig> = {
    ...(snapshot && {
      model: snapshot.model,
      prompt: snapshot.prompt,
      mcpServers: snapshot.mcpServers,
      name: snapshot.name,
    }),
    ...(settings.allowOut && { allowOut: settings.allowOut }),
    ...(settings.requirements && {
      requirements: [source.requirements, settings.requirements].filter(Boolean).join("\n"),
    }),
    ...(repo && { repoUrl: repo.url, ...(repo.branch && { branch: repo.branch }) }),
    ...(snapshot && { permissions: harnessPermissions(snapshot.tools) }),
  };
  const text = input.initial_events?.[0]?.content
    .map((block) => ("text" in block ? String(block.text) : ""))
    .join("\n");
  const session = await createSession(
    agentId,
    {
      ...(input.title ? { title: input.title } : {}),
      ...(text?.trim() ? { initial_prompt: text } : {}),
      env_vars: repo?.token ? { GIT_TOKEN: repo.token } : {},
      skill_ids: [],
    },
    holder,
    {
      environmentId: environment.id,
      agentVersion: source.version,
      metadata: input.metadata ?? {},
      config,
      env,
      vaultIds,
    },
  );
  return getManagedSession(session.id);
}

/** The agent a session runs, as this API shows it: the version it pinned. */
async function sessionAgent(row: SessionRow): Promise<ManagedSession["agent"]> {
  const { row: agent } = await getAgentRecord(row.agentId);
  const snapshot: AgentSnapshot | null =
    row.agentVersion !== null && row.agentVersion !== agent.version
      ? await getAgentVersion(row.agentId, row.agentVersion)
      : null;
  const {
    created_at: _c,
    updated_at: _u,
    archived_at: _a,
    metadata: _m,
    ...view
  } = presentAgent(snapshot ? { ...snapshot, createdAt: agent.createdAt, archivedAt: null } : agent);
  return view;
}

export async function presentSession(row: SessionRow): Promise<ManagedSession> {
  const [turn, tokens, agent] = await Promise.all([
    row.status === "ready" ? openTurnId(row.id) : null,
    sessionTokenTotals(row.id),
    sessionAgent(row),
  ]);
  const end = row.stoppedAt ?? new Date();
  return {
    id: row.id,
    type: "session",
    agent,
    environment_id: row.environmentId ?? "",
    title: row.title,
    metadata: row.metadata,
    status: managedStatus(row, turn !== null),
    resources: row.config.repoUrl
      ? [
          {
            type: "github_repository",
            url: row.config.repoUrl,
            mount_path: "/workspace",
            checkout: { type: "branch", name: row.config.branch },
          },
        ]
      : [],
    vault_ids: row.vaultIds,
    stats: { duration_seconds: Math.max(0, (end.getTime() - row.createdAt.getTime()) / 1000) },
    usage: {
      input_tokens: tokens.input,
      output_tokens: tokens.output,
      cache_read_input_tokens: tokens.cacheRead,
    },
    budget: null,
    outcome_evaluations: [],
    hangar_session_id: row.id,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    archived_at: row.archivedAt ? row.archivedAt.toISOString() : null,
  };
}

export async function getManagedSession(id: string) {
  return presentSession(await getSessionRow(id));
}

export async function listManagedSessions(query: ManagedSessionListQuery, reach: Reach) {
  const page = await listSessionPage(query, reach);
  const wanted = query.statuses === undefined ? null : new Set([query.statuses].flat());
  const data = (await Promise.all(page.data.map(presentSession))).filter(
    (s) => !wanted || wanted.has(s.status),
  );
  return { data, next_page: page.next_page, prev_page: null };
}

export async function updateManagedSession(id: string, input: UpdateManagedSessionInput) {
  const row = await getSessionRow(id);
  const updated = await setSessionFields(id, {
    ...(input.title !== undefined ? { title: input.title } : {}),
    ...(input.metadata !== undefined ? { metadata: mergeMetadata(row.metadata, input.metadata) } : {}),
  });
  return presentSession(updated);
}

/** Archive: the sandbox stops, the session and its log stay (read-only). */
export async function archiveManagedSession(id: string) {
  await deleteSession(id);
  return presentSession(await setSessionFields(id, { archivedAt: new Date() }));
}

/** Delete: the sandbox stops, then the session, its files and its log are removed. */
export async function deleteManagedSession(id: string) {
  await deleteSession(id);
  await deleteSessionRow(id);
  return { id, type: "session_deleted" as const };
}
