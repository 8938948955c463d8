import { z } from "zod";

export const HARNESS_IDS = ["opencode", "claude-agent-sdk", "claude-code", "codex"] as const;

export const harnessIdSchema = z.enum(HARNESS_IDS, {
  error: () => `harness_id must be one of ${HARNESS_IDS.join(", ")}`,
});

export type HarnessId = z.infer<typeof harnessIdSchema>;

export type HarnessInfo = {
  id: HarnessId;
  label: string;
  /** api: structured messages (chat thread); tui: a live terminal. */
  kind: "api" | "tui";
  description: string;
};

/** Checked against the server's harness registry (lib/harness/registry.ts): one entry per id, same kind. */
export const HARNESSES = {
  opencode: {
    id: "opencode",
    label: "opencode",
    kind: "api",
    description: "opencode in server mode; talk to it through messages and a chat thread.",
  },
  "claude-agent-sdk": {
    id: "claude-agent-sdk",
    label: "Claude Agent SDK",
    kind: "api",
    description: "Anthropic's Claude Agent SDK; messages in, streamed events out.",
  },
  "claude-code": {
    id: "claude-code",
    label: "Claude Code",
    kind: "tui",
    description: "The Claude Code CLI in a terminal you attach to from the browser or your shell.",
  },
  codex: {
    id: "codex",
    label: "Codex",
    kind: "tui",
    description: "The OpenAI Codex CLI in a terminal you attach to from the browser or your shell.",
  },
} as const satisfies Record<HarnessId, HarnessInfo>;

export function supportsTui(harnessId: HarnessId): boolean {
  return HARNESSES[harnessId].kind === "tui";
}
