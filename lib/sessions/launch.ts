import fs from "node:fs";
import path from "node:path";

import { getSessionFiles, updateSession } from "@/db/queries/sessions";
import type { sessions } from "@/db/schema";
import { harnessLaunch, harnessPackageDirs, harnessTui, withSessionEnv } from "@/lib/harness";
import { log } from "@/lib/log";
import { listenModelEndpoint } from "@/lib/models/endpoint";
import { runtime } from "@/lib/runtime";
import type { ReadyCheck } from "@/lib/sandbox/boot/probe";
import { bootLaunchSpec, bootSpec, sandboxNetwork, sandboxPorts } from "@/lib/sandbox/boot/spec";
import { StatusReader } from "@/lib/sandbox/boot/status";
import { watchBoot, type BootTimings } from "@/lib/sandbox/boot/watch";
import { compileEgressPolicy } from "@/lib/sandbox/egress/policy";
import { egressDeniedEvent } from "@/lib/sandbox/egress/proxy";
import { EGRESS_SOCKET, MODEL_SOCKET, sessionPaths } from "@/lib/sandbox/layout";
import { SandboxError } from "@/lib/sandbox/types";
import type { EnvVars } from "@/lib/schemas/env-vars";
import type { SessionEventType } from "@/lib/schemas/session-event";

import { appendEvent } from "./events";
import { harnessPassword } from "./harness-secrets";
import { sessionManager } from "./manager";
import {
  closeInterruptedTurns,
  closeTurnOfGoneReplica,
  releaseHarness,
  sendPendingPrompt,
} from "./messaging";
import { sessionDir, sessionsRoot } from "./paths";
import { liveReplicas } from "./replica";

/*
 * A session's lifecycle: launching its sandbox (lib/sandbox builds the launch and watches the boot),
 * adopting it after a restart, and settling it. The only place a session's phase and status are
 * written to the database.
 */

type SessionRow = typeof sessions.$inferSelect;

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

/** The host's own way to tell the harness is up: the adapter's ready check, with its password. */
function readyCheck(row: SessionRow): ReadyCheck {
  const launch = harnessLaunch(row.config.harnessId, {
    model: row.config.model,
    prompt: "",
    serverPassword: harnessPassword(row.id),
    modelBase: "",
    modelToken: "",
    port: 0,
  });
  const ready =
    launch.ready.kind === "command"
      ? { ...launch.ready, argv: withSessionEnv(launch.ready.argv) }
      : launch.ready;
  return { ready, env: launch.env, program: launch.argv };
}

/**
 * Follows the boot (lib/sandbox/boot/watch.ts) and records what it reports: phases and waits while
 * booting, ready once the harness answered the host and its terminal started, failed or dead when it
 * ends.
 */
function followBoot(row: SessionRow, started: number, timings: BootTimings, offset = 0) {
  const manager = sessionManager();
  const id = row.id;
  const watcher = watchBoot(
    {
      sessionId: id,
      sessionDir: sessionDir(id),
      driver: manager.driver,
      check: readyCheck(row),
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
        await updateSession(
          id,
          { status: "ready", phase: "ready", phaseDetail: null, timings, readyAt: new Date() },
          { onlyIfLive: true },
        );
        await event(id, "status", { status: "ready", timings });
        if (!row.supportsTui) void sendPendingPrompt(id);
      },
      failed: (reason) => settle(id, "failed", reason),
      exited: (reason, wasReady) => settle(id, wasReady ? "dead" : "failed", reason),
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

/**
 * Brings a session up in the background: egress proxy, boot spec, sandbox, then the bootstrap's
 * phases. The boot spec (per-session env vars, GIT_TOKEN) goes to the sandbox's main process through
 * the driver (its stdin, or the session's Secret) and nowhere else: never this host's disk. `files`
 * are the agent's files when the caller has them at hand (creation), else they are read back.
 */
export async function launchSession(
  row: SessionRow,
  agentEnv: EnvVars,
  sessionEnv: EnvVars,
  modelToken: string,
  files?: SessionFile[],
) {
  const manager = sessionManager();
  const driver = manager.driver;
  const started = Date.now();
  const timings: BootTimings = {};
  const config = row.config;
  try {
    await listenHostSide(row);
    const ports = await sandboxPorts(driver);
    const network = sandboxNetwork(driver, row.id, ports);
    const harness = harnessLaunch(config.harnessId, {
      model: config.model,
      prompt: config.prompt ?? "",
      serverPassword: harnessPassword(row.id),
      modelBase: network.modelBase,
      modelToken,
      port: ports.harness,
      mcpServers: config.mcpServers,
      ...(config.permissions && { permissions: config.permissions }),
    });
    const spec = bootSpec({
      config,
      files: files ?? (await getSessionFiles(row.id)),
      harness,
      agentEnv,
      sessionEnv,
      modelToken,
      ports,
      network,
    });
    const settings = runtime().config;
    const handle = await driver.launch(
      bootLaunchSpec({
        sessionId: row.id,
        sessionDir: sessionDir(row.id),
        spec,
        ports,
        serves: harness.serves,
        remote: driver.sandboxNetwork !== undefined,
        labels: { agentId: row.agentId },
        limits: {
          memoryMiB: settings.HANGAR_SESSION_MEMORY_MIB,
          pids: settings.HANGAR_SESSION_PIDS,
          nofile: 4096,
        },
        hidePaths: [settings.HANGAR_DATA_DIR, sessionsRoot(), process.cwd()],
        harnessDirs: harnessPackageDirs(),
      }),
    );
    if (harness.tui) {
      try {
        driver.prewarmPty?.(row.id, TUI_TERMINAL);
      } catch (err) {
        log.warn("could not start the terminal holder early", { sessionId: row.id, err });
      }
    }
    timings.creating_sandbox = Date.now() - started;
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
    });
    followBoot(row, started, timings);
  } catch (err) {
    log.error("session launch failed", { sessionId: row.id, err });
    await settle(row.id, "failed", `the sandbox could not start: ${(err as Error).message}`);
  }
}

/** Stops a session's sandbox and marks it dead (idempotent). */
export async function stopSession(sessionId: string, reason: string) {
  await settle(sessionId, "dead", reason);
}

/** After a restart: adopt sandboxes still running, settle the rest, and stop sandboxes with no session. */
export async function reconcile(live: SessionRow[]) {
  const manager = sessionManager();
  const known = new Set(live.map((s) => s.id));
  for (const row of live) {
    const status = await manager.driver.status(row.id).catch(() => null);
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
      followBoot(row, row.createdAt.getTime(), (row.timings as BootTimings) ?? {}, offset);
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
