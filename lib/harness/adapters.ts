import type { HarnessId } from "@/lib/schemas/harness";

import { harnessBinaries } from "./binaries";

/** Port the harness server listens on inside the sandbox, bridged to a socket in run/ on the host. */
export const HARNESS_PORT = 4096;

export type HarnessReady =
  { kind: "port"; port: number; timeoutMs: number } | { kind: "command"; argv: string[] };

export type HarnessLaunch = {
  argv: string[];
  ready: HarnessReady;
  /** Extra environment for the harness (never secrets of the platform). */
  env: Record<string, string>;
  /** Configuration files the harness reads, written by the bootstrap (paths may start with ~/). */
  files: { path: string; content: string }[];
  /** Whether the host should reach a server inside the sandbox on HARNESS_PORT. */
  serves: boolean;
};

export type HarnessContext = {
  model: string;
  prompt: string;
  /** Per-session secret the host uses to talk to the harness server. */
  serverPassword: string;
};

// The sandbox's main process for harnesses that Hangar drives per turn (SDK) or through a PTY (TUIs):
// it keeps the sandbox alive, like a pod's pause container.
const KEEP_ALIVE = ["sleep", "infinity"];

/** How each harness starts inside the sandbox. Turn handling and PTYs live in the messaging layer. */
export function harnessLaunch(harness: HarnessId, ctx: HarnessContext): HarnessLaunch {
  switch (harness) {
    case "opencode":
      return {
        argv: [
          harnessBinaries.opencode(),
          "serve",
          "--hostname",
          "127.0.0.1",
          "--port",
          String(HARNESS_PORT),
        ],
        ready: { kind: "port", port: HARNESS_PORT, timeoutMs: 60_000 },
        env: {
          OPENCODE_SERVER_PASSWORD: ctx.serverPassword,
          OPENCODE_DISABLE_MODELS_FETCH: "1",
          OPENCODE_DISABLE_AUTOUPDATE: "1",
        },
        files: [],
        serves: true,
      };
    case "claude-agent-sdk":
    case "claude-code":
      return {
        argv: KEEP_ALIVE,
        ready: { kind: "command", argv: [harnessBinaries.claude(), "--version"] },
        env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", DISABLE_AUTOUPDATER: "1" },
        files: ctx.prompt ? [{ path: "~/.claude/CLAUDE.md", content: ctx.prompt }] : [],
        serves: false,
      };
    case "codex":
      return {
        argv: KEEP_ALIVE,
        ready: { kind: "command", argv: [harnessBinaries.codex(), "--version"] },
        env: {},
        files: ctx.prompt ? [{ path: "~/.codex/AGENTS.md", content: ctx.prompt }] : [],
        serves: false,
      };
  }
}
