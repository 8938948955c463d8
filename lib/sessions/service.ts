import { readAgentForSession } from "@/db/queries/agents";
import { whileHoldingLock } from "@/db/queries/locks";
import {
  getSessionRow,
  insertSession,
  listIdleSessions,
  listLiveSessionIdsForAgent,
  listLiveSessions,
  updateSession,
} from "@/db/queries/sessions";
import { getSkillsByIds } from "@/db/queries/skills";
import type { SessionConfig } from "@/db/schema";
import { ConflictError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { log } from "@/lib/log";
import { harnessPermissions } from "@/lib/managed/tools";
import type { TtyHolder } from "@/lib/pty/tokens";
import { runtime } from "@/lib/runtime";
import type { EnvVars } from "@/lib/schemas/env-vars";
import { supportsTui } from "@/lib/schemas/harness";
import type { CreateSessionInput, Session } from "@/lib/schemas/session";
import { openEnv, sealEnv } from "@/lib/secret-box";
import { appendSkillBlock, parseSkillIds, skillSnapshots } from "@/lib/skill-blocks";

import { appendEvent } from "./events";
import { newModelToken } from "./harness-secrets";
import { bindSession, launchSession, maintainRemoteSandboxes, reconcile, stopSession } from "./launch";
import { sessionManager } from "./manager";
import { listenForRelayedControl } from "./messaging";
import { claimWarm, releaseClaimed, startPool } from "./pool";
import { toApiSession } from "./present";
import { startHeartbeat } from "./replica";

/**
 * Creates a session: snapshots the agent (prompt, skills, files, secrets) so later edits to the agent
 * do not reach it, answers at once with status `creating`, and boots the sandbox in the background.
 */
/** What the Managed Agents API adds to a session (lib/managed/sessions.ts); Hangar's API sets none. */
export type SessionExtras = {
  environmentId?: string;
  agentVersion?: number;
  metadata?: Record<string, string>;
  /** Replaces these fields of the configuration taken from the agent. */
  config?: Partial<SessionConfig>;
  /** Vault credentials: set in the sandbox over the agent's env vars, sealed with them for restarts. */
  env?: EnvVars;
  vaultIds?: string[];
};

export async function createSession(
  agentId: string,
  input: CreateSessionInput,
  holder: TtyHolder | null,
  extras: SessionExtras = {},
): Promise<Session> {
  const { row: agent, files } = await readAgentForSession(agentId);
  const env = { ...openEnv(runtime().box, `agent:${agentId}`, agent.envVars), ...extras.env };
  const extra = await getSkillsByIds(input.skill_ids, agent.workspaceId);
  const library = await getSkillsByIds(parseSkillIds(agent.prompt), agent.workspaceId).catch(() => []);
  const names = new Map([...library, ...extra].map((s) => [s.id, s.name]));
  const snapshots = skillSnapshots(agent.prompt);
  const prompt = extra.reduce<string | null>((p, s) => appendSkillBlock(p, s.id, s.content), agent.prompt);
  const warm = claimWarm(agent.harnessId);
  const id = warm?.id ?? newId("session");
  const token = newModelToken();
  const permissions = agent.tools.length ? harnessPermissions(agent.tools) : undefined;
  const row = await insertSession({
    id,
    spawnMode: warm ? "warm" : "cold",
    workspaceId: agent.workspaceId,
    agentId,
    environmentId: extras.environmentId ?? null,
    agentVersion: extras.agentVersion ?? agent.version,
    metadata: extras.metadata ?? {},
    vaultIds: extras.vaultIds ?? [],
    title: input.title ?? null,
    supportsTui: supportsTui(agent.harnessId),
    modelTokenHash: token.hash,
    config: {
      name: agent.name,
      model: agent.model,
      prompt,
      harnessId: agent.harnessId,
      requirements: agent.requirements,
      repoUrl: agent.repoUrl,
      branch: agent.branch,
      mcpServers: agent.mcpServers,
      allowOut: agent.allowOut,
      denyOut: agent.denyOut,
      skills: [
        ...Object.entries(snapshots).map(([sid, content]) => ({
          id: sid,
          name: names.get(sid) ?? sid,
          content,
        })),
        ...extra.map((s) => ({ id: s.id, name: s.name, content: s.content })),
      ],
      ...(permissions && { permissions }),
      ...extras.config,
    },
    // Sealed again for the session: restart needs them, not the agent.
    envVars: sealEnv(runtime().box, `session:${id}`, env),
    files: files.map((f) => ({
      position: f.position,
      name: f.name,
      sandboxPath: f.sandboxPath,
      contentType: f.contentType,
      size: f.size,
      sha256: f.sha256,
      content: f.content,
    })),
  }).catch(async (err: unknown) => {
    if (warm) await releaseClaimed(warm);
    throw err;
  });
  await appendEvent(id, "created", {
    agent_id: agentId,
    title: row.title,
    harness_id: agent.harnessId,
  });
  if (input.initial_prompt)
    await appendEvent(id, "user_message", { text: input.initial_prompt, pending: true });
  const boot = { agentEnv: env, sessionEnv: input.env_vars, modelToken: token.token, files };
  void (warm ? bindSession(row, boot, warm) : launchSession(row, boot));
  return toApiSession(row, holder);
}

/** A new sandbox with the same configuration; per-session env vars only if the caller passes them again. */
export async function restartSession(
  sessionId: string,
  sessionEnv: EnvVars,
  holder: TtyHolder | null,
): Promise<Session> {
  const row = await getSessionRow(sessionId);
  if (row.status === "creating")
    throw new ConflictError(`session ${sessionId} is still starting; wait until it is ready or failed`);
  await stopSession(sessionId, "restarting");
  const token = newModelToken();
  const fresh = await updateSession(sessionId, {
    status: "creating",
    phase: "creating_sandbox",
    phaseDetail: null,
    failureReason: null,
    timings: {},
    readyAt: null,
    stoppedAt: null,
    modelTokenHash: token.hash,
    // A fresh sandbox has a fresh harness: the next turn replays the thread into it.
    harnessSessionId: null,
    spawnMode: "cold",
  });
  if (!fresh) throw new ConflictError(`session ${sessionId} could not be restarted`);
  await appendEvent(sessionId, "status", { status: "creating", reason: "restart" });
  void launchSession(fresh, {
    agentEnv: openEnv(runtime().box, `session:${sessionId}`, row.envVars),
    sessionEnv,
    modelToken: token.token,
  });
  return toApiSession(fresh, holder);
}

export async function deleteSession(sessionId: string): Promise<Session> {
  const row = await getSessionRow(sessionId);
  if (row.status === "creating" || row.status === "ready") await stopSession(sessionId, "stopped by request");
  return toApiSession(await getSessionRow(sessionId), null);
}

export async function stopAgentSessions(agentId: string) {
  for (const id of await listLiveSessionIdsForAgent(agentId)) await stopSession(id, "the agent was deleted");
}

let reaper: NodeJS.Timeout | null = null;
let sweeper: NodeJS.Timeout | null = null;

/** Called once by server.ts: adopt or settle what a previous process left, then reap idle sessions. */
export async function startSessions() {
  // A sandbox engine that cannot work (no bubblewrap, a cluster that refuses us) is said at start,
  // not at the first session.
  const driver = sessionManager().driver;
  const check = await driver.preflight().catch((err: unknown) => ({
    ok: false,
    problems: [(err as Error).message],
    notes: [],
  }));
  if (check.ok) log.info("sandbox driver ready", { driver: driver.name, notes: check.notes });
  else log.warn("sandbox driver problems", { driver: driver.name, problems: check.problems });
  await startHeartbeat();
  await listenForRelayedControl();
  // Several web replicas may start at once on one database: one reconciles, the others skip.
  await whileHoldingLock("hangar:reconcile", async () => reconcile(await listLiveSessions()));
  await startPool();
  if (sessionManager().driver.sandboxNetwork) {
    sweeper ??= setInterval(() => {
      void whileHoldingLock("hangar:reconcile", async () =>
        maintainRemoteSandboxes(await listLiveSessions()),
      ).catch((err: unknown) => log.error("sandbox sweep failed", { err }));
    }, 30_000);
    sweeper.unref();
  }
  const idleMs = runtime().config.HANGAR_IDLE_TIMEOUT_MINUTES * 60_000;
  const idleFor =
    idleMs < 120_000 ? `${Math.round(idleMs / 1000)} seconds` : `${Math.round(idleMs / 60_000)} minutes`;
  reaper ??= setInterval(
    () => {
      void (async () => {
        for (const { id } of await listIdleSessions(new Date(Date.now() - idleMs))) {
          log.info("reaping idle session", { sessionId: id });
          await stopSession(id, `idle for ${idleFor}`);
        }
      })().catch((err: unknown) => log.error("idle reaper failed", { err }));
    },
    Math.min(30_000, Math.max(1000, idleMs / 3)),
  );
  reaper.unref();
}
