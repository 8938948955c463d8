import path from "node:path";

import { freePort } from "@/lib/net";
import type { EnvVars } from "@/lib/schemas/env-vars";

import { EGRESS_SOCKET, HARNESS_SOCKET, MODEL_SOCKET, sessionPaths } from "../layout";
import type { LaunchSpec, SandboxDriver } from "../types";

/*
 * What a session's sandbox is launched with: its loopback ports, the boot spec its bootstrap
 * (bootstrap/boot.mjs) reads on stdin, and the driver's launch spec. Built from data alone (the
 * session's frozen configuration, its files, the harness's launch config): no database, no session
 * state.
 */

/** The bootstrap, run by the sandbox's own node. */
export const BOOT = path.join(process.cwd(), "lib", "sandbox", "bootstrap", "boot.mjs");

/**
 * Loopback ports inside the sandbox: the egress proxy and the model endpoint (each bridged to a Unix
 * socket in run/listen/), and the harness server (bridged back out). A sandbox with its own network
 * namespace always uses the same ones; without isolation sessions share the host's loopback, so each
 * gets free ports of its own.
 */
export type SandboxPorts = { egress: number; model: number; harness: number };
const NAMESPACED_PORTS: SandboxPorts = { egress: 3128, model: 4000, harness: 4096 };

export async function sandboxPorts(driver: SandboxDriver): Promise<SandboxPorts> {
  if (driver.isolation !== "none") return NAMESPACED_PORTS;
  return { egress: await freePort(), model: await freePort(), harness: await freePort() };
}

export type SandboxNetwork = { egressProxy: string; modelBase: string; noProxy: string[] };

/**
 * Where the sandbox reaches the egress proxy and the model endpoint: loopback ports bridged to this
 * host, or (remote drivers) the shared gateway, with the session's own proxy credentials.
 */
export function sandboxNetwork(
  driver: SandboxDriver,
  sessionId: string,
  ports: SandboxPorts,
): SandboxNetwork {
  const remote = driver.sandboxNetwork?.(sessionId);
  const local = ["127.0.0.1", "localhost"];
  return remote
    ? { ...remote, noProxy: [...local, ...remote.noProxy] }
    : {
        egressProxy: `http://127.0.0.1:${ports.egress}`,
        modelBase: `http://127.0.0.1:${ports.model}`,
        noProxy: local,
      };
}

/** What of a session's frozen configuration the boot reads. */
export type BootConfig = {
  model: string;
  prompt: string | null;
  requirements: string | null;
  repoUrl: string | null;
  branch: string;
  skills: { id: string; name: string; content: string }[];
};

/** What the harness adds to the boot (lib/harness): its program, ready check, environment and files. */
export type BootHarness = {
  argv: string[];
  ready: object;
  env: Record<string, string>;
  files: { path: string; content: string; template?: boolean }[];
};

export type BootInput = {
  config: BootConfig;
  /** The agent's files as the session froze them, each for its path in the sandbox. */
  files: { sandboxPath: string; content: Buffer }[];
  harness: BootHarness;
  agentEnv: EnvVars;
  sessionEnv: EnvVars;
  modelToken: string;
  ports: SandboxPorts;
  network: SandboxNetwork;
};

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
function harnessEnv(input: BootInput) {
  const { config, network, ports } = input;
  const { GIT_TOKEN: _token, ...session } = input.sessionEnv;
  return {
    ...networkEnv(network, ports),
    REPO_URL: config.repoUrl ?? "",
    BRANCH: config.branch,
    LITELLM_API_KEY: input.modelToken,
    LITELLM_DEFAULT_MODEL: config.model,
    AGENT_PROMPT: config.prompt ?? "",
    AGENT_REQUIREMENTS: config.requirements ?? "",
    ...input.agentEnv,
    ...session,
  };
}

/** What every sandbox's environment has, session or not: where its proxy, model endpoint and port are. */
function networkEnv(network: SandboxNetwork, ports: SandboxPorts) {
  const proxy = network.egressProxy;
  const noProxy = network.noProxy.join(",");
  return {
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    LITELLM_API_BASE: network.modelBase,
    PORT: String(ports.harness),
  };
}

/**
 * A warm sandbox's boot spec (lib/sessions/pool.ts): the harness and nothing of any agent or session,
 * no files, no token. The bootstrap starts the harness, then waits for the session's spec (`bootSpec`)
 * on its bind FIFO.
 */
export function warmBootSpec(harness: BootHarness, ports: SandboxPorts, network: SandboxNetwork) {
  return {
    files: [],
    env: { ...networkEnv(network, ports), ...harness.env },
    repo: null,
    requirements: null,
    harness: { argv: harness.argv, ready: harness.ready, cwd: undefined },
    warm: true,
  };
}

/** The boot spec: files to write (the agent's, its skills, the harness's), env, repo, requirements, harness. */
export function bootSpec(input: BootInput) {
  const { config, harness } = input;
  const files = input.files.map((f) => ({ path: f.sandboxPath, content: f.content.toString("base64") }));
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
  const sessionEnv = input.sessionEnv;
  return {
    files,
    env: { ...harnessEnv(input), ...harness.env },
    repo: config.repoUrl ? { url: config.repoUrl, branch: config.branch, token: sessionEnv.GIT_TOKEN } : null,
    requirements: config.requirements,
    harness: { argv: harness.argv, ready: harness.ready, cwd: undefined },
  };
}

export type BootLaunch = {
  sessionId: string;
  sessionDir: string;
  /** The boot spec, for the sandbox's main process only (its stdin, or the session's Secret). */
  spec: ReturnType<typeof bootSpec> | ReturnType<typeof warmBootSpec>;
  ports: SandboxPorts;
  /** Whether the harness serves on its port (a reverse bridge to run/sock/). */
  serves: boolean;
  /** Remote drivers reach the shared gateway, not bridges to this host's listeners. */
  remote: boolean;
  labels: LaunchSpec["labels"];
  limits: LaunchSpec["limits"];
  /** Folders of this host the sandbox must not see (the data folder, the sessions, Hangar's sources). */
  hidePaths: string[];
  /** Hangar's folders it does see read-only besides the bootstrap's: the harness binaries. */
  harnessDirs: string[];
};

/** The driver's launch spec of a session's sandbox: node running the bootstrap, its bridges and limits. */
export function bootLaunchSpec(boot: BootLaunch): LaunchSpec {
  const paths = sessionPaths(boot.sessionDir);
  const { ports } = boot;
  return {
    sessionId: boot.sessionId,
    sessionDir: boot.sessionDir,
    argv: [process.execPath, BOOT],
    env: { LANG: "C.UTF-8", TERM: "xterm-256color" },
    stdin: JSON.stringify(boot.spec),
    bridges: boot.remote
      ? []
      : [
          { port: ports.egress, socketPath: path.join(paths.listen, EGRESS_SOCKET) },
          { port: ports.model, socketPath: path.join(paths.listen, MODEL_SOCKET) },
        ],
    labels: boot.labels,
    reverseBridges: boot.serves
      ? [{ socketPath: path.join(paths.sock, HARNESS_SOCKET), port: ports.harness }]
      : [],
    limits: boot.limits,
    hidePaths: boot.hidePaths,
    // Only the bootstrap and the harness binaries of Hangar's install are shown, wherever it lives
    // (even under a hidden folder such as /tmp or /home): never its sources, settings or data.
    readOnlyPaths: [path.dirname(BOOT), ...boot.harnessDirs],
  };
}
