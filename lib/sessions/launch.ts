import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";

import type { sessions } from "@/db/schema";
import { getSessionFiles, updateSession } from "@/db/queries/sessions";
import { harnessLaunch, harnessTui, withSessionEnv } from "@/lib/harness/adapters";
import { harnessPackageDirs } from "@/lib/harness/binaries";
import { log } from "@/lib/log";
import { runtime } from "@/lib/runtime";
import { sessionPaths } from "@/lib/sandbox/layout";
import { egressDeniedEvent } from "@/lib/sandbox/egress/gateway";
import { compileEgressPolicy } from "@/lib/sandbox/egress/policy";
import { SandboxError } from "@/lib/sandbox/types";
import type { EnvVars } from "@/lib/schemas/env-vars";
import type { HarnessId } from "@/lib/schemas/harness";
import type { SessionEventType } from "@/lib/schemas/session-event";

import { type StatusLine, StatusReader } from "./boot-status";
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
 * socket in run/listen/), and the harness server (bridged back out). A sandbox with its own network
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
/** The reverse bridge of a harness server: made in run/sock/, reached at run/tunnels/ (see types.ts). */
const HARNESS_SOCKET = "harness.sock";
const POLL_MS = 25;
/** How often, and how long, the host tries its own probe after a `ready` line. */
const PROBE_EVERY_MS = 250;
const PROBE_TIMEOUT_MS = 2000;
const READY_CONFIRM_MS = 60_000;
/** After a `failed` line, how long the sandbox's exit is watched for closely. */
const FAILED_WATCH_MS = 3000;
/** The phases a status line may name; `ready` is the host's to set. */
const BOOT_PHASES = new Set(["writing_files", "cloning_repo", "installing_deps", "starting_harness"]);

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
  const dirs = [paths.home, paths.workspace, paths.tmp, paths.sock, paths.listen, paths.tunnels];
  for (const dir of [...dirs, path.join(paths.run, "pty")]) {
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

/** The host's own way to tell the harness is up: the adapter's ready check, with its password. */
function readyCheck(row: SessionRow) {
  const launch = harnessLaunch(row.config.harnessId as HarnessId, {
    model: row.config.model,
    prompt: "",
    serverPassword: harnessPassword(row.id),
    modelBase: "",
    modelToken: "",
    port: 0,
  });
  return { ready: launch.ready, env: launch.env, argv: launch.argv };
}

/** GET over the host-only harness socket; true on 200. The answer's body is never read. */
function probeHttp(socketPath: string, urlPath: string, headers: http.OutgoingHttpHeaders): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: urlPath, headers, timeout: PROBE_TIMEOUT_MS }, (res) => {
      resolve(res.statusCode === 200);
      res.destroy();
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

const isPrepareStage = (cmd: string[]) =>
  cmd.some((arg) => arg.endsWith("/boot.mjs")) && cmd.includes("--stage") && cmd.includes("prepare");

/**
 * Whether the harness answers the host itself, whatever the sandbox wrote: the sandbox runs, the
 * bootstrap's prepare stage is over, and the health endpoint answers 200 through the host-only socket
 * (http), or the ready command exits 0 when the host runs it in the sandbox (command; where the host
 * sees the sandbox's processes, the harness's own program must be running too: the check command
 * alone also passes while pip is still at work). A string is a reason to fail the session.
 */
async function harnessAnswers(row: SessionRow): Promise<boolean | string> {
  const driver = sessionManager().driver;
  if ((await driver.status(row.id))?.state !== "running") return false;
  const processes = await driver.commandLines?.(row.id);
  if (processes?.some(isPrepareStage)) return false;
  const { ready, env, argv } = readyCheck(row);
  if (ready.kind === "command") {
    const harness = argv.join("\0");
    if (processes && !processes.some((cmd) => cmd.join("\0") === harness)) return false;
    const result = await driver
      .exec(row.id, withSessionEnv(ready.argv), { timeoutMs: 15_000 })
      .catch(() => null);
    return result?.exitCode === 0;
  }
  try {
    await driver.openTunnels?.(row.id);
  } catch (err) {
    if (err instanceof SandboxError && err.code === "invalid_spec") return err.message;
    return false;
  }
  const headers: http.OutgoingHttpHeaders = {};
  if (ready.user) {
    const password = ready.passwordEnv ? (env[ready.passwordEnv] ?? "") : "";
    headers.authorization = "Basic " + Buffer.from(`${ready.user}:${password}`).toString("base64");
  }
  return probeHttp(path.join(sessionPaths(sessionDir(row.id)).tunnels, HARNESS_SOCKET), ready.path, headers);
}

/**
 * Follows the bootstrap's status lines and the sandbox until the session settles. The lines are
 * hints: `phase` moves the phase along while booting; `ready` makes the host probe the harness and
 * only its own answer makes the session ready; `failed` only supplies the reason for when the host
 * sees the sandbox exit (a running sandbox has not failed); `exited` is ignored for the same reason.
 */
function watchBoot(row: SessionRow, started: number, timings: Record<string, number>, offset = 0) {
  const manager = sessionManager();
  const paths = sessionPaths(sessionDir(row.id));
  const status = new StatusReader(paths.status, offset);
  let phase = row.phase ?? "creating_sandbox";
  // The sandbox phase runs from the POST until the bootstrap's first report (its own start included).
  let phaseStarted = phase === "creating_sandbox" ? started : Date.now();
  let ready = row.status === "ready";
  let busy = false;
  let lastProcessCheck = 0;
  let waiting: string | undefined;
  /** The last `failed` line's reason: the failure reason if the sandbox then exits. */
  let failure: string | undefined;
  let watchClosely = 0;
  /** When a `ready` line asked the host to check, and when it last probed. */
  let confirming: number | undefined;
  let lastProbe = 0;

  const handle = async (line: StatusLine) => {
    if (ready) return;
    const now = Date.now();
    if (line.type === "phase" && line.phase && BOOT_PHASES.has(line.phase)) {
      timings[phase] = now - phaseStarted;
      phase = line.phase;
      phaseStarted = now;
      await updateSession(row.id, { phase, phaseDetail: line.detail ?? null, timings }, { onlyIfLive: true });
      await event(row.id, "phase", { phase, detail: line.detail ?? null });
    } else if (line.type === "ready") {
      confirming ??= now;
    } else if (line.type === "failed") {
      failure = line.reason ?? "boot failed";
      watchClosely = now + FAILED_WATCH_MS;
    }
  };

  const markReady = async () => {
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
  };

  /** Handles the status lines written since the last read; false once the session settled. */
  const readStatus = async (): Promise<boolean> => {
    for (const line of await status.read()) {
      try {
        await handle(line);
      } catch (err) {
        log.warn("boot status line not handled", { sessionId: row.id, err });
      }
      if (!manager.watchers.has(row.id)) return false;
    }
    return true;
  };

  /** Probes the harness after a `ready` line; false once the session settled. */
  const confirm = async (): Promise<boolean> => {
    if (confirming === undefined || ready || Date.now() - lastProbe < PROBE_EVERY_MS) return true;
    lastProbe = Date.now();
    const answer = await harnessAnswers(row);
    if (typeof answer === "string") {
      await settle(row.id, "failed", answer);
      return false;
    }
    if (answer) {
      confirming = undefined;
      await markReady();
      return manager.watchers.has(row.id);
    }
    if (Date.now() - confirming > READY_CONFIRM_MS) {
      log.warn("a ready line the harness did not confirm", { sessionId: row.id });
      confirming = undefined;
    }
    return true;
  };

  const checkSandbox = async () => {
    lastProcessCheck = Date.now();
    const sandbox = await manager.driver.status(row.id);
    if (!sandbox || sandbox.state === "exited") {
      // The bootstrap's last words (why it failed) may have landed just before it exited.
      for (let i = 0; i < 16; i++) if (!(await readStatus()) || !status.more) break;
      if (!manager.watchers.has(row.id)) return;
      const tail = lastLines(paths.log, 5);
      const why =
        sandbox?.reason ??
        `the sandbox exited${sandbox?.exitCode !== undefined ? ` with code ${sandbox.exitCode}` : ""}`;
      await settle(
        row.id,
        ready ? "dead" : "failed",
        !ready && failure ? failure : `${why}${tail ? `: ${tail.replace(/\n/g, " | ")}` : ""}`,
      );
    } else if (!ready && sandbox.waiting !== waiting) {
      // Held up outside the sandbox (no node fits, the image is still pulling): say so.
      waiting = sandbox.waiting;
      await updateSession(row.id, { phaseDetail: waiting ?? null }, { onlyIfLive: true });
      if (waiting) await event(row.id, "phase", { phase, detail: waiting });
    }
  };

  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      if (!(await readStatus())) return;
      if (!(await confirm())) return;
      if (Date.now() - lastProcessCheck > 500 || Date.now() < watchClosely) await checkSandbox();
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
  // Host listeners live in run/listen/, which the sandbox sees read-only as a folder: it can connect
  // but not replace them, and a listener re-created after a Hangar restart is visible inside (a single
  // bound socket file would keep the dead one).
  fs.mkdirSync(paths.listen, { recursive: true, mode: 0o700 });
  const egress = await manager.gateway.listen(
    row.id,
    path.join(paths.listen, "egress.sock"),
    compileEgressPolicy({ allow: row.config.allowOut, deny: row.config.denyOut }),
  );
  manager.gatewaySessions.set(row.id, egress);
  manager.modelEndpoints.set(
    row.id,
    await listenModelEndpoint(row.id, path.join(paths.listen, "model.sock"), row.modelTokenHash),
  );
}

/**
 * Brings a session up in the background: egress gateway, boot spec, sandbox, then the bootstrap's
 * phases. The boot spec (per-session env vars, GIT_TOKEN) goes to the sandbox's main process through
 * the driver (its stdin, or the session's Secret) and nowhere else: never this host's disk.
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
    await listenHostSide(row);
    const ports = await sandboxPorts();
    const { serves, tui, ...spec } = await bootSpec(row, agentEnv, sessionEnv, modelToken, ports);
    const config = runtime().config;
    const handle = await manager.driver.launch({
      sessionId: row.id,
      sessionDir: dir,
      argv: [process.execPath, BOOT],
      env: { LANG: "C.UTF-8", TERM: "xterm-256color" },
      stdin: JSON.stringify(spec),
      bridges: manager.driver.sandboxNetwork
        ? []
        : [
            { port: ports.egress, socketPath: path.join(paths.listen, "egress.sock") },
            { port: ports.model, socketPath: path.join(paths.listen, "model.sock") },
          ],
      labels: { agentId: row.agentId },
      reverseBridges: serves
        ? [{ socketPath: path.join(paths.sock, HARNESS_SOCKET), port: ports.harness }]
        : [],
      limits: { memoryMiB: config.HANGAR_SESSION_MEMORY_MIB, pids: config.HANGAR_SESSION_PIDS, nofile: 4096 },
      hidePaths: [config.HANGAR_DATA_DIR, sessionsRoot(), process.cwd()],
      // Only the bootstrap and the harness binaries of Hangar's install are shown, wherever it lives
      // (even under a hidden folder such as /tmp or /home): never its sources, settings or data.
      readOnlyPaths: [path.dirname(BOOT), ...harnessPackageDirs()],
    });
    if (tui) {
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
      watchBoot(row, row.createdAt.getTime(), (row.timings as Record<string, number>) ?? {}, offset);
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
