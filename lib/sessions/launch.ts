import fs from "node:fs";
import path from "node:path";

import { getSessionFiles, updateSession } from "@/db/queries/sessions";
import type { sessions } from "@/db/schema";
import { harnessLaunch, harnessTui, withSessionEnv } from "@/lib/harness";
import { log } from "@/lib/log";
import { listenModelEndpoint } from "@/lib/models/endpoint";
import { bootSpec, sandboxNetwork, sandboxPorts, type SandboxPorts } from "@/lib/sandbox/boot/spec";
import { StatusReader } from "@/lib/sandbox/boot/status";
import { watchBoot, type BootTimings } from "@/lib/sandbox/boot/watch";
import { compileEgressPolicy } from "@/lib/sandbox/egress/policy";
import { egressDeniedEvent } from "@/lib/sandbox/egress/proxy";
import { EGRESS_SOCKET, MODEL_SOCKET, sessionPaths } from "@/lib/sandbox/layout";
import { SANDBOX_PRIVATE, SandboxError, type SandboxHandle } from "@/lib/sandbox/types";
import type { EnvVars } from "@/lib/schemas/env-vars";
import type { SessionEventType } from "@/lib/schemas/session-event";

import { sessionBootPermit, type Release } from "./boot-permits";
import { appendEvent } from "./events";
import { harnessPassword } from "./harness-secrets";
import { sessionManager } from "./manager";
import {
  closeInterruptedTurns,
  closeTurnOfGoneReplica,
  releaseHarness,
  sendPendingPrompt,
} from "./messaging";
import { sessionDir } from "./paths";
import { liveReplicas } from "./replica";
import { readyCheck, sandboxLaunchSpec } from "./sandbox-spec";

/*
 * A session's lifecycle: launching its sandbox (lib/sandbox builds the launch and watches the boot),
 * adopting it after a restart, and settling it. The only place a session's phase and status are
 * written to the database.
 */

type SessionRow = typeof sessions.$inferSelect;

/** A warm sandbox the pool (./pool.ts) hands a new session: its id is the session's. */
export type WarmSandbox = {
  id: string;
  /**
   * Its handle and ports once the harness answered (at once when it was warm when claimed); null if
   * it failed. The ports are only known once its boot got them, so they come with the handle.
   */
  ready: Promise<{ handle: SandboxHandle; ports: SandboxPorts } | null>;
  /**
   * The claim is settled (the session is ready, failed, or boots cold instead): the pool refills
   * then, so a refill's boot does not compete with the bind for the CPU (idempotent).
   */
  bound: () => void;
};

/** The agent's files as the session froze them (session creation passes them; a restart reads them). */
export type SessionFile = { sandboxPath: string; content: Buffer };

async function event(sessionId: string, type: SessionEventType, data: Record<string, unknown>) {
  await appendEvent(sessionId, type, data).catch((err: unknown) =>
    log.error("event append failed", { sessionId, err }),
  );
}

/**
 * A stopped sandbox leaves nothing behind but its log (sandbox_logs stays readable): the workspace,
 * home and tmp go, and with them the per-session environment the sandbox held.
 */
function removeSandboxData(sessionId: string) {
  const paths = sessionPaths(sessionDir(sessionId));
  for (const dir of [
    paths.home,
    paths.workspace,
    paths.tmp,
    paths.sock,
    paths.listen,
    paths.tunnels,
    paths.pty,
  ]) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      log.warn("could not remove a stopped sandbox's files", { sessionId, dir, err });
    }
  }
}

async function settle(sessionId: string, status: "failed" | "dead", reason: string) {
  const manager = sessionManager();
  manager.watchers.get(sessionId)?.stop();
  manager.watchers.delete(sessionId);
  const row = await updateSession(
    sessionId,
    {
      status,
      failureReason: status === "failed" ? reason : null,
      phaseDetail: reason,
      stoppedAt: new Date(),
    },
    { onlyIfLive: true },
  );
  await releaseHarness(sessionId, reason);
  if (row) await event(sessionId, "status", { status, reason });
  await manager.driver.stop(sessionId).catch(() => undefined);
  removeSandboxData(sessionId);
  await manager.egressSessions
    .get(sessionId)
    ?.close()
    .catch(() => undefined);
  manager.egressSessions.delete(sessionId);
  await manager.modelEndpoints
    .get(sessionId)
    ?.close()
    .catch(() => undefined);
  manager.modelEndpoints.delete(sessionId);
}

/**
 * Follows the boot (lib/sandbox/boot/watch.ts) and records what it reports: phases and waits while
 * booting, ready once the harness answered the host and its terminal started, failed or dead when it
 * ends.
 */
function followBoot(
  row: SessionRow,
  started: number,
  timings: BootTimings,
  { offset = 0, release = () => {} }: { offset?: number; release?: Release } = {},
) {
  const manager = sessionManager();
  const id = row.id;
  const watcher = watchBoot(
    {
      sessionId: id,
      sessionDir: sessionDir(id),
      driver: manager.driver,
      check: { ...readyCheck(row.config.harnessId, id), bound: row.spawnMode === "warm" },
      started,
      timings,
      phase: row.phase,
      ready: row.status === "ready",
      offset,
    },
    {
      phase: async (phase, detail, timings) => {
        await updateSession(id, { phase, phaseDetail: detail, timings }, { onlyIfLive: true });
        await event(id, "phase", { phase, detail });
      },
      waiting: async (phase, waiting) => {
        await updateSession(id, { phaseDetail: waiting ?? null }, { onlyIfLive: true });
        if (waiting) await event(id, "phase", { phase, detail: waiting });
      },
      confirmed: async () => {
        try {
          await startTui(row);
          return true;
        } catch (err) {
          await settle(id, "failed", `the terminal could not start: ${(err as Error).message}`);
          return false;
        }
      },
      ready: async (timings) => {
        release();
        await updateSession(
          id,
          { status: "ready", phase: "ready", phaseDetail: null, timings, readyAt: new Date() },
          { onlyIfLive: true },
        );
        await event(id, "status", { status: "ready", timings });
        if (!row.supportsTui) void sendPendingPrompt(id);
      },
      failed: (reason) => {
        release();
        return settle(id, "failed", reason);
      },
      exited: (reason, wasReady) => {
        release();
        return settle(id, wasReady ? "dead" : "failed", reason);
      },
    },
  );
  manager.watchers.set(id, watcher);
}

/** The terminal name of a session's TUI (claude-code, codex); lib/pty attaches clients to it. */
export const TUI_TERMINAL = "tui";

/**
 * TUI harnesses run in a terminal Hangar holds, started once the sandbox is ready (idempotent: an
 * adopted session keeps its running TUI). The holder outlives Hangar restarts like the sandbox does.
 */
async function startTui(row: SessionRow) {
  const tui = harnessTui(row.config.harnessId, row.config.model);
  if (!tui) return;
  const started = await sessionManager().driver.startPty(row.id, {
    name: TUI_TERMINAL,
    argv: withSessionEnv(tui.argv),
    title: tui.title,
    cols: 120,
    rows: 32,
  });
  if (started.created)
    await event(row.id, "terminal", { name: TUI_TERMINAL, program: tui.title, started: true });
}

/** Denied connections become events of their session. */
function wireEgressEvents() {
  const manager = sessionManager();
  manager.onDenied = (d) => void event(d.sessionId, "egress_denied", egressDeniedEvent(d));
}

/**
 * The host-side listeners a sandbox's bridges connect to: egress proxy and model endpoint. Remote
 * sandboxes use the shared gateway (HANGAR_ROLE=gateway) instead.
 */
async function listenHostSide(row: SessionRow) {
  const manager = sessionManager();
  if (manager.driver.sandboxNetwork) return;
  wireEgressEvents();
  const paths = sessionPaths(sessionDir(row.id));
  // Host listeners live in run/listen/, which the sandbox sees read-only as a folder: it can connect
  // but not replace them, and a listener re-created after a Hangar restart is visible inside (a single
  // bound socket file would keep the dead one).
  fs.mkdirSync(paths.listen, { recursive: true, mode: 0o700 });
  const egress = await manager.egressProxy.listen(
    row.id,
    path.join(paths.listen, EGRESS_SOCKET),
    compileEgressPolicy({ allow: row.config.allowOut, deny: row.config.denyOut }),
  );
  manager.egressSessions.set(row.id, egress);
  manager.modelEndpoints.set(
    row.id,
    await listenModelEndpoint(row.id, path.join(paths.listen, MODEL_SOCKET), row.modelTokenHash),
  );
}

/** What a session's boot needs besides its row: secrets, the model token and (at creation) its files. */
export type SessionBoot = {
  agentEnv: EnvVars;
  sessionEnv: EnvVars;
  modelToken: string;
  files?: SessionFile[];
};

/**
 * The session's boot spec: the agent's files, skills, harness config, env and repository. The
 * per-session env vars and GIT_TOKEN in it go to the sandbox's boot process only (its stdin, the
 * session's Secret or, for a warm sandbox, its bind FIFO): never this host's disk.
 */
async function sessionBootSpec(row: SessionRow, boot: SessionBoot, ports: SandboxPorts) {
  const config = row.config;
  const network = sandboxNetwork(sessionManager().driver, row.id, ports);
  const harness = harnessLaunch(config.harnessId, {
    model: config.model,
    prompt: config.prompt ?? "",
    serverPassword: harnessPassword(row.id),
    modelBase: network.modelBase,
    modelToken: boot.modelToken,
    port: ports.harness,
    mcpServers: config.mcpServers,
    ...(config.permissions && { permissions: config.permissions }),
  });
  const spec = bootSpec({
    config,
    files: boot.files ?? (await getSessionFiles(row.id)),
    harness,
    agentEnv: boot.agentEnv,
    sessionEnv: boot.sessionEnv,
    modelToken: boot.modelToken,
    ports,
    network,
  });
  return { harness, spec };
}

/** Records the sandbox the session runs in, then follows its boot until it settles. */
async function sandboxStarted(row: SessionRow, handle: SandboxHandle, started: number, timings: BootTimings) {
  await updateSession(
    row.id,
    {
      sandbox: { driver: handle.driver, isolation: handle.isolation, limits: handle.limits.mechanism },
      timings,
    },
    { onlyIfLive: true },
  );
  await event(row.id, "phase", {
    phase: "sandbox_started",
    driver: handle.driver,
    isolation: handle.isolation,
    ...(row.spawnMode === "warm" && { warm: true }),
  });
}

/**
 * Brings a session up in the background: egress proxy, boot spec, sandbox, then the bootstrap's
 * phases. `files` are the agent's files when the caller has them at hand (creation), else they are
 * read back.
 */
export async function launchSession(row: SessionRow, boot: SessionBoot) {
  const manager = sessionManager();
  const driver = manager.driver;
  const started = Date.now();
  const timings: BootTimings = {};
  const release = await sessionBootPermit(row.id, timings);
  if (!release) return;
  try {
    await listenHostSide(row);
    const ports = await sandboxPorts(driver);
    const { harness, spec } = await sessionBootSpec(row, boot, ports);
    const handle = await driver.launch(
      sandboxLaunchSpec(row.id, spec, ports, harness.serves, { agentId: row.agentId }),
    );
    if (harness.tui) prewarmTerminal(row.id);
    timings.creating_sandbox = Date.now() - started;
    await sandboxStarted(row, handle, started, timings);
    followBoot(row, started, timings, { release });
  } catch (err) {
    release();
    log.error("session launch failed", { sessionId: row.id, err });
    await settle(row.id, "failed", `the sandbox could not start: ${(err as Error).message}`);
  }
}

/** Starts a TUI harness's terminal holder early, so startPty later only hands it the program. */
export function prewarmTerminal(sandboxId: string) {
  try {
    sessionManager().driver.prewarmPty?.(sandboxId, TUI_TERMINAL);
  } catch (err) {
    log.warn("could not start the terminal holder early", { sessionId: sandboxId, err });
  }
}

/** Writes the boot spec on stdin into the warm sandbox's bind FIFO (refused when there is none). */
const WRITE_BIND_FIFO = [
  "/bin/sh",
  "-c",
  `f="\${HANGAR_PRIVATE:-${SANDBOX_PRIVATE}}/bind.fifo"; [ -p "$f" ] || exit 3; exec cat > "$f"`,
];

/**
 * Binds a warm sandbox (claimed from the pool for this session: its id is the session's) late: the
 * session's egress policy and model endpoint on the host, then its boot spec through the bind FIFO.
 * The bootstrap writes the files, clones, installs the requirements and says `ready` again, which the
 * boot watcher confirms as for a cold boot. If the warm sandbox cannot take the spec, the session
 * boots cold instead.
 */
export async function bindSession(row: SessionRow, boot: SessionBoot, warm: WarmSandbox) {
  const manager = sessionManager();
  const started = Date.now();
  const timings: BootTimings = {};
  try {
    const booted = await warm.ready;
    if (!booted) throw new Error("the warm sandbox did not boot");
    const { handle, ports } = booted;
    await listenHostSide(row);
    const { spec } = await sessionBootSpec(row, boot, ports);
    const offset = await StatusReader.end(sessionPaths(sessionDir(row.id)).status);
    const wrote = await manager.driver.exec(row.id, WRITE_BIND_FIFO, {
      stdin: JSON.stringify(spec),
      timeoutMs: 15_000,
    });
    if (wrote.exitCode !== 0) throw new Error(`the bind FIFO refused the spec (exit ${wrote.exitCode})`);
    timings.claiming_sandbox = Date.now() - started;
    await sandboxStarted(row, handle, started, timings);
    followBoot(row, started, timings, { offset, release: warm.bound });
  } catch (err) {
    warm.bound();
    log.warn("a warm sandbox could not be bound; booting cold", { sessionId: row.id, err });
    await manager.driver.stop(row.id).catch(() => undefined);
    removeSandboxData(row.id);
    const cold = await updateSession(row.id, { spawnMode: "cold" }, { onlyIfLive: true });
    if (cold) await launchSession(cold, boot);
  }
}

/** Stops a session's sandbox and marks it dead (idempotent). */
export async function stopSession(sessionId: string, reason: string) {
  await settle(sessionId, "dead", reason);
}

/**
 * Whether a session's sandbox has (or never needed) its spec: a claimed warm sandbox that has said
 * nothing since its warm `ready` never got it, and waits for a bind that will not come.
 */
async function bindReached(row: SessionRow): Promise<boolean> {
  if (row.spawnMode !== "warm" || row.status !== "creating") return true;
  const lines = await new StatusReader(sessionPaths(sessionDir(row.id)).status).read();
  const warmReady = lines.findIndex((line) => line.type === "ready");
  return warmReady >= 0 && warmReady < lines.length - 1;
}

/** After a restart: adopt sandboxes still running, settle the rest, and stop sandboxes with no session. */
export async function reconcile(live: SessionRow[]) {
  const manager = sessionManager();
  const known = new Set(live.map((s) => s.id));
  for (const row of live) {
    const status = await manager.driver.status(row.id).catch(() => null);
    if (status?.state === "running" && !(await bindReached(row))) {
      await settle(row.id, "failed", "Hangar restarted before the warm sandbox got the session's spec");
      continue;
    }
    if (status?.state === "running") {
      await listenHostSide(row);
      await manager.driver.adopt?.(row.id);
      try {
        await manager.driver.openTunnels?.(row.id);
      } catch (err) {
        if (!(err instanceof SandboxError && err.code === "invalid_spec")) throw err;
        await settle(row.id, "failed", err.message);
        continue;
      }
      if (row.status === "ready") {
        // One process per database closes every turn left open; with replicas, only those of gone ones.
        if (manager.driver.sandboxNetwork) await closeTurnOfGoneReplica(row.id, await liveReplicas());
        else await closeInterruptedTurns(row.id);
        await startTui(row).catch((err: unknown) =>
          log.warn("could not restore the session's terminal", { sessionId: row.id, err }),
        );
      }
      // Lines written while Hangar was down are replayed from the start when the session was still booting.
      const offset =
        row.status === "ready" ? await StatusReader.end(sessionPaths(sessionDir(row.id)).status) : 0;
      followBoot(row, row.createdAt.getTime(), (row.timings as BootTimings) ?? {}, { offset });
      await event(row.id, "recovered", { note: "adopted after a Hangar restart" });
      log.info("adopted running sandbox", { sessionId: row.id });
    } else {
      await settle(
        row.id,
        row.status === "ready" ? "dead" : "failed",
        "Hangar restarted and the sandbox was no longer running",
      );
    }
  }
  for (const sandbox of await manager.driver.list().catch(() => [])) {
    if (!known.has(sandbox.sessionId) && sandbox.state === "running") {
      log.warn("stopping a sandbox with no live session", { sessionId: sandbox.sessionId });
      await manager.driver.stop(sandbox.sessionId).catch(() => undefined);
    }
  }
}

/**
 * Remote drivers, one replica at a time (advisory lock): close turns whose replica stopped, renew the
 * engine's expiry of live sandboxes, and settle sessions whose sandbox ended while the replica watching
 * it was gone (otherwise they would stay "ready" forever).
 */
export async function maintainRemoteSandboxes(live: SessionRow[]) {
  const manager = sessionManager();
  const alive = await liveReplicas();
  for (const row of live) {
    if (row.status === "ready") await closeTurnOfGoneReplica(row.id, alive);
    await manager.driver
      .keepAlive?.(row.id)
      .catch((err: unknown) => log.warn("could not renew a sandbox's expiry", { sessionId: row.id, err }));
    if (manager.watchers.has(row.id) || row.status === "creating") continue;
    const status = await manager.driver.status(row.id).catch(() => undefined);
    if (status === undefined || status?.state === "running") continue;
    await settle(row.id, "dead", status?.reason ?? "the sandbox is gone");
  }
}
