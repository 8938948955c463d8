import { RETRY_AFTER_SECONDS } from "./errors";
import { findShellTool, shellCall, writeCall } from "./tools";
import type { Conversation, Plan } from "./types";

/*
 * The scripted model. Replies are driven by the text of the last user message, one directive per line
 * (a directive is a line starting with the upper-case keyword and a colon):
 *
 *   (no directive)         Hangar test model: you said "<text>"
 *   REPLY: <text>          exactly <text>; takes the rest of the message, so it may span lines
 *   RUN: <command>         a call to the harness's shell tool; several RUN lines run in order,
 *                          one tool call per assistant turn, then a text with every output
 *   WRITE: <path>          a call to the harness's file-write tool (else apply_patch, else a shell
 *   <content lines…>       heredoc); the content is every following line, each ending in "\n"
 *   THINK: <text>          a thinking / reasoning block before the rest of the first answer
 *   ERROR: <status> [xN] [message]
 *                          that HTTP status with the API's error body (429 adds retry-after);
 *                          with xN only the first N attempts fail, so retries can succeed
 *   SLOW: <ms>             pause this long between streamed chunks
 *
 * REPLY and WRITE consume the rest of the message, so they come last. After tool steps the final
 * text is the REPLY text when there is one, else "Ran `<command>`:\n<output>" and
 * "Wrote `<path>`:\n<output>" for each step. Requests that declare no tools at all (title
 * generation and similar side calls) skip the tool steps.
 */

export type DirectiveName = "REPLY" | "RUN" | "WRITE" | "THINK" | "ERROR" | "SLOW";

export type Step = { kind: "run"; command: string } | { kind: "write"; path: string; content: string };

export type Script = {
  directives: DirectiveName[];
  reply: string | null;
  steps: Step[];
  think: string | null;
  /** `times` null: every attempt fails. */
  error: { status: number; times: number | null; message: string | null } | null;
  delayMs: number;
  /** The text outside directive lines, which the default reply quotes. */
  plain: string;
  /** The whole message, without opencode's quotes. */
  text: string;
};

const DIRECTIVE = /^\s*(REPLY|RUN|WRITE|THINK|ERROR|SLOW):[ \t]?(.*)$/;
const ERROR_ARGS = /^([45]\d\d)(?:\s+x(\d+))?(?:\s+(.*))?$/;

/**
 * `opencode run <msg>` quotes a message that holds spaces or quotes (`"say \"hi\" now"`) before it
 * sends it. A message wrapped that way, with no bare quote inside, is unwrapped.
 */
export function unwrapQuotes(text: string): string {
  const trimmed = text.trim();
  if (trimmed.length < 2 || !trimmed.startsWith('"') || !trimmed.endsWith('"')) return text;
  const inner = trimmed.slice(1, -1);
  if (/(^|[^\\])"/.test(inner)) return text;
  return inner.replaceAll('\\"', '"');
}

export function parseScript(text: string): Script {
  const script: Script = {
    directives: [],
    reply: null,
    steps: [],
    think: null,
    error: null,
    delayMs: 0,
    plain: "",
    text: unwrapQuotes(text),
  };
  const lines = script.text.split(/\r?\n/);
  const plain: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const match = DIRECTIVE.exec(line);
    if (!match) {
      plain.push(line);
      continue;
    }
    const name = match[1] as DirectiveName;
    const arg = match[2] ?? "";
    script.directives.push(name);
    if (name === "REPLY") {
      script.reply = [arg, ...lines.slice(i + 1)].join("\n");
      break;
    }
    if (name === "WRITE") {
      const content = lines.slice(i + 1);
      script.steps.push({ kind: "write", path: arg.trim(), content: content.map((l) => l + "\n").join("") });
      break;
    }
    if (name === "RUN") script.steps.push({ kind: "run", command: arg.trim() });
    else if (name === "THINK") script.think = arg.trim();
    else if (name === "SLOW") script.delayMs = Math.max(0, Math.min(60_000, Number.parseInt(arg, 10) || 0));
    else {
      const parts = ERROR_ARGS.exec(arg.trim());
      if (parts) {
        script.error = {
          status: Number(parts[1]),
          times: parts[2] === undefined ? null : Number(parts[2]),
          message: parts[3]?.trim() || null,
        };
      }
    }
  }
  script.plain = plain.join("\n").trim();
  return script;
}

export function defaultReply(script: Script): string {
  return `Hangar test model: you said "${script.plain || script.text.trim()}"`;
}

function describeOutput(output: string | undefined): string {
  const trimmed = (output ?? "").replace(/\s+$/, "");
  return trimmed === "" ? "(no output)" : trimmed;
}

function finalText(script: Script, results: string[]): string {
  if (script.reply !== null) return script.reply;
  return script.steps
    .map((step, i) =>
      step.kind === "run"
        ? `Ran \`${step.command}\`:\n${describeOutput(results[i])}`
        : `Wrote \`${step.path}\`:\n${describeOutput(results[i])}`,
    )
    .join("\n\n");
}

/** Counts failed attempts per prompt so `ERROR: 429 x1` fails once and then lets the retry through. */
export class FailureBudget {
  private readonly spent = new Map<string, number>();

  /** Whether this attempt should fail, counting it when it does. */
  take(key: string, times: number | null): boolean {
    const used = this.spent.get(key) ?? 0;
    if (times !== null && used >= times) return false;
    if (this.spent.size >= 10_000) this.spent.clear();
    this.spent.set(key, used + 1);
    return true;
  }

  clear() {
    this.spent.clear();
  }
}

/** The key that identifies retries of one request: same caller, same prompt, same kind of call. */
export function attemptKey(session: string | null, api: string, conv: Conversation): string {
  const tools = conv.tools.map((t) => t.name).join(",");
  return JSON.stringify([session, api, conv.model, tools, conv.promptIndex, conv.userText]);
}

/**
 * Decides the answer to one request. The turn's progress is read from the request itself: each tool
 * step is one assistant tool call, so the number of tool results after the prompt is the next step.
 */
export function planReply(conv: Conversation, script: Script, fail: () => boolean): Plan {
  const done = conv.toolResults.length;
  if (script.error && done === 0 && fail()) {
    const { status } = script.error;
    // Codex reads the wait from the message ("try again in 1s"), the SDKs from retry-after.
    const hint = status === 429 ? ` Please try again in ${RETRY_AFTER_SECONDS}s.` : "";
    return {
      kind: "error",
      status,
      message: script.error.message ?? `Hangar test model: scripted error ${status}.${hint}`,
    };
  }
  const thinking = done === 0 ? script.think : null;
  const reply = { kind: "reply" as const, thinking, text: null, toolCall: null, delayMs: script.delayMs };
  const steps = conv.tools.length > 0 ? script.steps : [];
  const step = steps[done];
  if (!step) {
    if (steps.length > 0) return { ...reply, text: finalText(script, conv.toolResults) };
    return { ...reply, text: script.reply ?? defaultReply(script) };
  }
  if (step.kind === "run") {
    const shell = findShellTool(conv.tools);
    if (shell) return { ...reply, toolCall: shellCall(shell, step.command, conv.cwd) };
    return {
      ...reply,
      text: `Hangar test model: no shell tool is declared, so \`${step.command}\` did not run.`,
    };
  }
  const call = writeCall(conv.tools, step.path, step.content, conv.cwd);
  if (call) return { ...reply, toolCall: call };
  return {
    ...reply,
    text: `Hangar test model: no tool that writes files is declared, so ${step.path} was not written.`,
  };
}
