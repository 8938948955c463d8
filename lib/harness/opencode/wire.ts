/* The subset of opencode's wire shapes the turn client reads (pinned @opencode-ai/sdk types). */

export type OpencodeError = { name?: string; data?: { message?: string; statusCode?: number } };

export type MessageInfo = {
  id: string;
  role: "user" | "assistant";
  finish?: string;
  cost?: number;
  error?: OpencodeError;
  tokens?: { input: number; output: number; reasoning: number; cache: { read: number; write: number } };
};

export type ToolState =
  | { status: "pending"; input: unknown }
  | { status: "running"; input: unknown }
  | { status: "completed"; input: unknown; output: string }
  | { status: "error"; input: unknown; error: string };

export type Part = { id: string; messageID: string } & (
  | { type: "text"; text: string; synthetic?: boolean; ignored?: boolean; time?: { end?: number } }
  | { type: "reasoning"; text: string; time?: { end?: number } }
  | { type: "tool"; callID: string; tool: string; state: ToolState }
  | { type: "step-start" | "step-finish" | "snapshot" | "patch" | "file" | "agent" | "subtask" }
);

export type OpencodeEvent = { type: string; properties?: Record<string, unknown> };
