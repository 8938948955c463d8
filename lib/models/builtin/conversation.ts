import type { Conversation, ToolSpec } from "./types";

/*
 * Each wire format flattens its request into these messages; `buildConversation` then finds the
 * prompt the script reads. Harnesses put their own context into user turns (Claude Code's
 * <system-reminder> blocks and CLAUDE.md, Codex's AGENTS.md and <environment_context> messages):
 * that text belongs to the instructions, not to what the user typed.
 */

export type FlatMessage =
  | { role: "system" | "user" | "assistant"; text: string }
  /** Text that came with tool results: only its harness context counts. */
  | { role: "context"; text: string }
  | { role: "tool"; output: string };

// Claude Code's reminders, and Hangar's replay of a restarted session's conversation: context, not
// the user's new words (so directives quoted in a replayed transcript are not run again).
const REMINDER =
  /<system-reminder>[\s\S]*?<\/system-reminder>|<previous_conversation>[\s\S]*?<\/previous_conversation>/g;
const CONTEXT_MESSAGE =
  /^\s*(<environment_context>|<user_instructions>|<permissions instructions>|# AGENTS\.md instructions|<INSTRUCTIONS>)/;
const CWD_PATTERNS = [
  /<cwd>([^<\n]+)<\/cwd>/,
  /^\s*-?\s*(?:Primary working directory|Working directory):\s*(\S[^\n]*)$/m,
];

/** Separates harness context from what the user wrote. */
export function splitHarnessContext(text: string): { prompt: string; context: string[] } {
  if (CONTEXT_MESSAGE.test(text)) return { prompt: "", context: [text] };
  const context = text.match(REMINDER) ?? [];
  return { prompt: text.replace(REMINDER, "").trim(), context };
}

export function findCwd(texts: string[]): string | null {
  for (const pattern of CWD_PATTERNS) {
    for (const text of texts) {
      const match = pattern.exec(text);
      if (match?.[1]) return match[1].trim();
    }
  }
  return null;
}

export function buildConversation(input: {
  model: string;
  stream: boolean;
  system: string[];
  messages: FlatMessage[];
  tools: ToolSpec[];
}): Conversation {
  const system = input.system.filter((s) => s.trim() !== "");
  const prompts: { index: number; text: string }[] = [];
  let inputChars = system.reduce((n, s) => n + s.length, 0);
  input.messages.forEach((message, index) => {
    const text = message.role === "tool" ? message.output : message.text;
    inputChars += text.length;
    if (message.role === "system") system.push(text);
    if (message.role !== "user" && message.role !== "context") return;
    const { prompt, context } = splitHarnessContext(message.text);
    system.push(...context);
    if (message.role === "user" && prompt !== "") prompts.push({ index, text: prompt });
  });
  const last = prompts.at(-1);
  const after = last ? input.messages.slice(last.index + 1) : input.messages;
  return {
    model: input.model,
    stream: input.stream,
    system: system.join("\n\n"),
    userText: last?.text ?? "",
    promptIndex: Math.max(0, prompts.length - 1),
    toolResults: after.flatMap((m) => (m.role === "tool" ? [m.output] : [])),
    tools: input.tools,
    cwd: findCwd([...system, ...input.messages.flatMap((m) => (m.role === "tool" ? [] : [m.text]))]),
    inputChars,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The text of a content value: a string, a text part, or an array of parts (other parts skipped). */
export function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value))
    return value
      .map(textOf)
      .filter((t) => t !== "")
      .join("\n");
  if (isRecord(value) && typeof value.text === "string") return value.text;
  return "";
}
