import fs from "node:fs";
import net from "node:net";
import path from "node:path";

import type { sessions } from "@/db/schema";
import { getSessionFiles, updateSession } from "@/db/queries/sessions";
import { harnessLaunch, harnessTui, withSessionEnv } from "@/lib/harness/adapters";
import { harnessPackageDirs } from "@/lib/harness/binaries";
import { log } from "@/lib/log";
import { runtime } from "@/lib/runtime";
import { sessionPaths } from "@/lib/sandbox/drivers/bwrap-args";
import { egressDeniedEvent } from "@/lib/sandbox/egress/gateway";
import { compileEgressPolicy } from "@/lib/sandbox/egress/policy";
import type { EnvVars } from "@/lib/schemas/env-vars";
import type { HarnessId } from "@/lib/schemas/harness";
import type { SessionEventType } from "@/lib/schemas/session-event";

import { appendEvent } from "./events";
import { harnessPassword } from "./harness-secrets";
import {
  closeInterruptedTurns,
  closeTurnOfGoneReplica,
  releaseHarness,
  sendPendingPrompt,
} from "./messaging";
import { sessionManager } from "./manager";
import { listenModelEndpoint } from "./model-endpoint";
import { sessionDir, sessionsRoot } from "./paths";
import { liveReplicas } from "./replica";

type SessionRow = typeof sessions.$inferSelect;

/**
 * Loopback ports inside the sandbox: the egress proxy and the model endpoint (each bridged to a Unix
 * socket in run/sock/), and the harness server (bridged back out). A sandbox with its own network
 * namespace always uses the same ones; without isolation sessions share the host's loopback, so each
 * gets free ports of its own.
 */
export type SandboxPorts = { egress: number; model: number; harness: number };
const NAMESPACED_PORTS: SandboxPorts = { egress: 3128, model: 4000, harness: 4096 };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function sandboxPorts(): Promise<SandboxPorts> {
  if (sessionManager().driver.isolation !== "none") return NAMESPACED_PORTS;
  return { egress: await freePort(), model: await freePort(), harness: await freePort() };
}
const BOOT = path.join(process.cwd(), "lib", "sandbox", "bootstrap", "boot.mjs");
const SPEC = "~/.hangar/boot.json";
const STATUS = "~/.hangar/status.jsonl";
const POLL_MS = 25;

function slug(name: string, taken: Set<string>): string {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 60) || "skill";
  let candidate = base;
  for (let n = 2; taken.has(candidate); n++) candidate = `${base}-${n}`;
  taken.add(candidate);
  return candidate;
}

function skillFile(skill: { id: string; name: string; content: string }): string {
  if (skill.content.trimStart().startsWith("---")) return skill.content;
  return `---\nname: ${JSON.stringify(skill.name)}\nskill_id: ${skill.id}\n---\n\n${skill.content.trim()}\n`;
}

/**
 * The harness environment, lowest precedence first: Hangar's reserved keys, the agent's env vars,
 * then the per-session ones (they win). The model endpoint is the per-session one, with a
 * per-session token: the platform's real gateway key never enters a sandbox.
 */
/**
 * Where the sandbox reaches the egress proxy and the model endpoint: loopback ports bridged to this
 * host, or (remote drivers) the shared gateway, with the session's own proxy credentials.
 */
function sandboxNetwork(sessionId: string, ports: SandboxPorts) {
  const remote = sessionManager().driver.sandboxNetwork?.(sessionId);
  const local = ["127.0.0.1", "localhost"];
  return remote
    ? { ...remote, noProxy: [...local, ...remote.noProxy] }
    : {
        egressProxy: `http://127.0.0.1:${ports.egress}`,
        modelBase: `http://127.0.0.1:${ports.model}`,
        noProxy: local,
      };
}

function harnessEnv(
  row: SessionRow,
  agentEnv: EnvVars,
  sessionEnv: EnvVars,
  modelToken: string,
  prompt: string,
  ports: SandboxPorts,
) {
  const { GIT_TOKEN: _token, ...session } = sessionEnv;
  const network = sandboxNetwork(row.id, ports);
  const proxy = network.egressProxy;
  const noProxy = network.noProxy.join(",");
  return {
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    REPO_URL: row.config.repoUrl ?? "",
    BRANCH: row.config.branch,
    LITELLM_API_BASE: network.modelBase,
    LITELLM_API_KEY: modelToken,
    LITELLM_DEFAULT_MODEL: row.config.model,
    AGENT_PROMPT: prompt,
    PORT: String(ports.harness),
    AGENT_REQUIREMENTS: row.config.requirements ?? "",
    ...agentEnv,
    ...session,
  };
}

async function bootSpec(
  row: SessionRow,
  agentEnv: EnvVars,
  sessionEnv: EnvVars,
  modelToken: string,
  ports: SandboxPorts,
) {
  const config = row.config;
  const prompt = config.prompt ?? "";
  const harness = harnessLaunch(config.harnessId as HarnessId, {
    model: config.model,
    prompt,
    serverPassword: harnessPassword(row.id),
    modelBase: sandboxNetwork(row.id, ports).modelBase,
    modelToken,
    port: ports.harness,
    mcpServers: config.mcpServers,
  });
  const files = (await getSessionFiles(row.id)).map((f) => ({
    path: f.sandboxPath,
    content: f.content.toString("base64"),
  }));
  const taken = new Set<string>();
  for (const skill of config.skills) {
    const content = Buffer.from(skillFile(skill)).toString("base64");
    const dir = slug(skill.name, taken);
    // Claude reads ~/.claude/skills; opencode and codex read ~/.agents/skills.
    files.push(
      { path: `~/.claude/skills/${dir}/SKILL.md`, content },
      { path: `~/.agents/skills/${dir}/SKILL.md`, content },
    );
  }
  for (const file of harness.files)
    files.push({ ...file, content: Buffer.from(file.content).toString("base64") });
  return {
    files,
    env: { ...harnessEnv(row, agentEnv, sessionEnv, modelToken, prompt, ports), ...harness.env },
    repo: config.repoUrl ? { url: config.repoUrl, branch: config.branch, token: sessionEnv.GIT_TOKEN } : null,
    requirements: config.requirements,
    harness: { argv: harness.argv, ready: harness.ready, cwd: undefined },
    serves: harness.serves,
    tui: harness.tui,
  };
}

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
  for (const dir of [paths.home, paths.workspace, paths.tmp, paths.sock, path.join(paths.run, "pty")]) {
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
  await manager.gatewaySessions
    .get(sessionId)
    ?.close()
    .catch(() => undefined);
  manager.gatewaySessions.delete(sessionId);
  await manager.modelEndpoints
    .get(sessionId)
    ?.close()
    .catch(() => undefined);
  manager.modelEndpoints.delete(sessionId);
}

function lastLines(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Follows the bootstrap's status lines and the sandbox process until the session settles. */
function watchBoot(row: SessionRow, started: number, timings: Record<string, number>, offset = 0) {
  const manager = sessionManager();
  const paths = sessionPaths(sessionDir(row.id));
  const statusFile = path.join(paths.home, ".hangar", "status.jsonl");
  let position = offset;
  let phase = row.phase ?? "creating_sandbox";
  // The sandbox phase runs from the POST until the bootstrap's first report (its own start included).
  let phaseStarted = phase === "creating_sandbox" ? started : Date.now();
  let ready = row.status === "ready";
  let busy = false;
  let lastProcessCheck = 0;
  let waiting: string | undefined;

  const handle = async (line: {
    type: string;
    phase?: string;
    detail?: string;
    reason?: string;
    code?: number | null;
    at?: number;
  }) => {
    const now = Date.now();
    if (line.type === "phase" && line.phase) {
      timings[phase] = now - phaseStarted;
      phase = line.phase;
      phaseStarted = now;
      await updateSession(row.id, { phase, phaseDetail: line.detail ?? null, timings }, { onlyIfLive: true });
      await event(row.id, "phase", { phase, detail: line.detail ?? null });
    } else if (line.type === "ready") {
      try {
        await startTui(row);
      } catch (err) {
        await settle(row.id, "failed", `the terminal could not start: ${(err as Error).message}`);
        return;
      }
      timings[phase] = Date.now() - phaseStarted;
      timings.total = Date.now() - started;
      ready = true;
      await updateSession(
        row.id,
        { status: "ready", phase: "ready", phaseDetail: null, timings, readyAt: new Date() },
        { onlyIfLive: true },
      );
      await event(row.id, "status", { status: "ready", timings });
      if (!row.supportsTui) void sendPendingPrompt(row.id);
    } else if (line.type === "failed") {
      await settle(row.id, "failed", line.reason ?? "boot failed");
    } else if (line.type === "exited") {
      const tail = lastLines(paths.log);
      const reason = `harness exited${line.code !== null && line.code !== undefined ? ` with code ${line.code}` : ""}${tail ? `: ${tail.split("\n").slice(-3).join(" | ")}` : ""}`;
      await settle(row.id, ready ? "dead" : "failed", reason);
    }
  };

  /** Handles the complete status lines written since the last read; false once the session settled. */
  const readStatus = async (): Promise<boolean> => {
    let text = "";
    try {
      const fd = fs.openSync(statusFile, "r");
      const size = fs.fstatSync(fd).size;
      if (size > position) {
        const buffer = Buffer.alloc(size - position);
        fs.readSync(fd, buffer, 0, buffer.length, position);
        text = buffer.toString("utf8");
      }
      fs.closeSync(fd);
    } catch {
      // not written yet
    }
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    position += Buffer.byteLength(complete);
    for (const raw of complete.split("\n").filter(Boolean)) {
      try {
        await handle(JSON.parse(raw));
      } catch (err) {
        log.warn("bad boot status line", { sessionId: row.id, err });
      }
      if (!manager.watchers.has(row.id)) return false;
    }
    return true;
  };

  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      if (!(await readStatus())) return;
      if (Date.now() - lastProcessCheck > 500) {
        lastProcessCheck = Date.now();
        const status = await manager.driver.status(row.id);
        if (!status || status.state === "exited") {
          // The bootstrap's last words (why it failed) may have landed just before it exited.
          if (!(await readStatus())) return;
          const tail = lastLines(paths.log, 5);
          const why =
            status?.reason ??
            `the sandbox exited${status?.exitCode !== undefined ? ` with code ${status.exitCode}` : ""}`;
          await settle(
            row.id,
            ready ? "dead" : "failed",
            `${why}${tail ? `: ${tail.replace(/\n/g, " | ")}` : ""}`,
          );
        } else if (!ready && status.waiting !== waiting) {
          // Held up outside the sandbox (no node fits, the image is still pulling): say so.
          waiting = status.waiting;
          await updateSession(row.id, { phaseDetail: waiting ?? null }, { onlyIfLive: true });
          if (waiting) await event(row.id, "phase", { phase, detail: waiting });
        }
      }
    } catch (err) {
      // A transient failure to ask the driver (an API server hiccup) is retried on the next tick.
      log.warn("boot watcher check failed", { sessionId: row.id, err });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), POLL_MS);
  manager.watchers.set(row.id, { stop: () => clearInterval(timer) });
}

/** The terminal name of a session's TUI (claude-code, codex); lib/pty attaches clients to it. */
export const TUI_TERMINAL = "tui";

/**
 * TUI harnesses run in a terminal Hangar holds, started once the sandbox is ready (idempotent: an
 * adopted session keeps its running TUI). The holder outlives Hangar restarts like the sandbox does.
 */
async function startTui(row: SessionRow) {
  const tui = harnessTui(row.config.harnessId as HarnessId, row.config.model);
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
 * The host-side listeners a sandbox's bridges connect to: egress gateway and model endpoint. Remote
 * sandboxes use the shared gateway (HANGAR_ROLE=gateway) instead.
 */
async function listenHostSide(row: SessionRow) {
  const manager = sessionManager();
  if (manager.driver.sandboxNetwork) return;
  wireEgressEvents();
  const paths = sessionPaths(sessionDir(row.id));
  // Host listeners live in run/sock/, which the sandbox sees as a folder: a listener re-created after
  // a Hangar restart is then visible inside (a single bound socket file would keep the dead one).
  fs.mkdirSync(paths.sock, { recursive: true, mode: 0o700 });
  const egress = await manager.gateway.listen(
    row.id,
    path.join(paths.sock, "egress.sock"),
    compileEgressPolicy({ allow: row.config.allowOut, deny: row.config.denyOut }),
  );
  manager.gatewaySessions.set(row.id, egress);
  manager.modelEndpoints.set(
    row.id,
    await listenModelEndpoint(row.id, path.join(paths.sock, "model.sock"), row.modelTokenHash),
  );
}

/**
 * Brings a session up in the background: egress gateway, boot spec, sandbox, then the bootstrap's
 * phases. Per-session env vars go straight into the sandbox's boot file and nowhere else.
 */
export async function launchSession(
  row: SessionRow,
  agentEnv: EnvVars,
  sessionEnv: EnvVars,
  modelToken: string,
) {
  const manager = sessionManager();
  const started = Date.now();
  const timings: Record<string, number> = {};
  const dir = sessionDir(row.id);
  const paths = sessionPaths(dir);
  try {
    fs.mkdirSync(path.join(paths.home, ".hangar"), { recursive: true, mode: 0o700 });
    fs.rmSync(path.join(paths.home, ".hangar", "status.jsonl"), { force: true });
    await listenHostSide(row);
    const ports = await sandboxPorts();
    const spec = await bootSpec(row, agentEnv, sessionEnv, modelToken, ports);
    fs.writeFileSync(path.join(paths.home, ".hangar", "boot.json"), JSON.stringify(spec), { mode: 0o600 });
    const config = runtime().config;
    const handle = await manager.driver.launch({
      sessionId: row.id,
      sessionDir: dir,
      argv: [process.execPath, BOOT, SPEC, STATUS],
      env: { LANG: "C.UTF-8", TERM: "xterm-256color" },
      bridges: manager.driver.sandboxNetwork
        ? []
        : [
            { port: ports.egress, socketPath: path.join(paths.sock, "egress.sock") },
            { port: ports.model, socketPath: path.join(paths.sock, "model.sock") },
          ],
      labels: { agentId: row.agentId },
      reverseBridges: spec.serves
        ? [{ socketPath: path.join(paths.sock, "harness.sock"), port: ports.harness }]
        : [],
      limits: { memoryMiB: config.HANGAR_SESSION_MEMORY_MIB, pids: config.HANGAR_SESSION_PIDS, nofile: 4096 },
      hidePaths: [config.HANGAR_DATA_DIR, sessionsRoot(), process.cwd()],
      // Only the bootstrap and the harness binaries of Hangar's install are shown, wherever it lives
      // (even under a hidden folder such as /tmp or /home): never its sources, settings or data.
      readOnlyPaths: [path.dirname(BOOT), ...harnessPackageDirs()],
    });
    if (spec.tui) {
      try {
        manager.driver.prewarmPty?.(row.id, TUI_TERMINAL);
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
    watchBoot(row, started, timings);
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
      if (row.status === "ready") {
        // One process per database closes every turn left open; with replicas, only those of gone ones.
        if (manager.driver.sandboxNetwork) await closeTurnOfGoneReplica(row.id, await liveReplicas());
        else await closeInterruptedTurns(row.id);
        await startTui(row).catch((err: unknown) =>
          log.warn("could not restore the session's terminal", { sessionId: row.id, err }),
        );
      }
      const statusFile = path.join(sessionPaths(sessionDir(row.id)).home, ".hangar", "status.jsonl");
      let offset = 0;
      try {
        offset = fs.statSync(statusFile).size;
      } catch {
        offset = 0;
      }
      // Lines written while Hangar was down are replayed from the start when the session was still booting.
      watchBoot(
        row,
        row.createdAt.getTime(),
        (row.timings as Record<string, number>) ?? {},
        row.status === "ready" ? offset : 0,
      );
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
