import type { ChildProcess } from "node:child_process";
import type http from "node:http";

import type { HarnessId } from "@/lib/schemas/harness";

import type { HarnessSession } from "./turn";

/*
 * What a harness is to Hangar. Each one lives in lib/harness/<id>/ and is listed in ./registry.ts;
 * the rest of Hangar reaches harnesses only through the registry.
 */

/**
 * How the bootstrap knows the harness is up: an HTTP endpoint answering 200 (with Basic auth when the
 * server has a password: opencode accepts connections about a second before it answers), or a command.
 */
export type HarnessReady =
  | { kind: "http"; port: number; path: string; user?: string; passwordEnv?: string; timeoutMs: number }
  | { kind: "command"; argv: string[] };

/** A file the bootstrap writes; `template` files get {{HOME}} and {{WORKSPACE}} filled in there. */
export type HarnessFile = { path: string; content: string; template?: boolean };

/** A program Hangar starts in a terminal it holds once the sandbox is ready (TUI harnesses). */
export type HarnessTerminal = { argv: string[]; title: string };

export type HarnessLaunch = {
  argv: string[];
  ready: HarnessReady;
  /** Extra environment for the harness (never secrets of the platform). */
  env: Record<string, string>;
  /** Configuration files the harness reads, written by the bootstrap (paths may start with ~/). */
  files: HarnessFile[];
  /** Whether the host should reach a server inside the sandbox on `port`. */
  serves: boolean;
  /** TUI harnesses: the program Hangar starts in a terminal it holds once the sandbox is ready. */
  tui: HarnessTerminal | undefined;
};

export type HarnessContext = {
  model: string;
  prompt: string;
  /** Per-session secret the host uses to talk to the harness server. */
  serverPassword: string;
  /** Loopback port a harness server listens on inside the sandbox (PORT). */
  port: number;
  /** The per-session model endpoint as the sandbox sees it (no path), e.g. http://127.0.0.1:4000. */
  modelBase: string;
  /** The per-session model token (LITELLM_API_KEY inside the sandbox). */
  modelToken: string;
  /** The agent's `mcp_servers` entries (see ./mcp.ts). */
  mcpServers?: string[];
  /** Tools to disallow and tools to ask about first (Claude Code names, as in TurnClientContext). */
  permissions?: { ask: string[]; disabled: string[] };
};

/** A native binary from a pinned npm platform package (./binaries.ts). */
export type HarnessBinary = {
  /** What tests and logs call it; two harnesses running one program share it (claude). */
  name: string;
  /** The package folder, which a sandbox must see (read-only) wherever Hangar is installed. */
  packageDir(): string;
  file(): string;
};

/** A server the harness runs inside the sandbox, as the host reaches it (the host-only tunnel). */
export type HarnessServer = { socketPath: string; password: string };

/** What the messaging layer hands an API harness to open its turn client for one session. */
export type TurnClientContext = {
  /** The agent's model string (LITELLM_DEFAULT_MODEL). */
  model: string;
  /** The agent's prompt with its skill blocks. */
  prompt: string;
  /** The harness's session id from an earlier turn or process, to resume; null for a new one. */
  harnessSessionId: string | null;
  /** The agent's `mcp_servers` entries (see ./mcp.ts). */
  mcpServers: string[];
  /** Tools to disallow and tools to ask about first (Claude Code names; `mcp__srv__*` wildcards). */
  permissions?: { ask: string[]; disabled: string[] };
  /** The harness server of the session's sandbox (harnesses whose launch `serves`). */
  server: HarnessServer;
  /** Starts a program inside the session's sandbox (the driver's spawn; no harness environment). */
  spawnInSandbox: (argv: string[], options: { env: Record<string, string>; cwd?: string }) => ChildProcess;
};

/**
 * The harness server of a session, passed through verbatim at /sessions/{id}/<segment>/{...} once the
 * messaging layer has checked the caller and the session.
 */
export type HarnessProxy = {
  /** The path segment after the session id, e.g. "opencode". */
  segment: string;
  /** Forwards the request to the server at `path` (with its query string). */
  forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    server: HarnessServer,
    path: string,
    sessionId: string,
  ): Promise<void>;
};

type HarnessBase = {
  id: HarnessId;
  /** The program the harness runs in the sandbox. */
  binary: HarnessBinary;
  /** How it starts inside the sandbox: argv, environment, config files and ready check. */
  launch(ctx: HarnessContext): HarnessLaunch;
  proxy?: HarnessProxy;
};

/** Structured messages: Hangar drives each turn through a turn client (./turn.ts). */
export type ApiHarness = HarnessBase & {
  kind: "api";
  openTurnClient(ctx: TurnClientContext): Promise<HarnessSession>;
};

/** A live terminal: Hangar starts the harness's TUI once the sandbox is ready. */
export type TuiHarness = HarnessBase & {
  kind: "tui";
  terminal(model: string): HarnessTerminal;
};

export type Harness = ApiHarness | TuiHarness;
