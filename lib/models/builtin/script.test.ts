import { describe, expect, it } from "vitest";

import { buildConversation, type FlatMessage } from "./conversation";
import { attemptKey, FailureBudget, parseScript, planReply } from "./script";
import type { ReplyPlan, ToolSpec } from "./types";

const bash: ToolSpec = {
  name: "bash",
  kind: "function",
  description: "",
  schema: { type: "object", properties: { command: { type: "string" } }, required: ["command"] },
};
const write: ToolSpec = {
  name: "write",
  kind: "function",
  description: "",
  schema: {
    type: "object",
    properties: { filePath: { type: "string" }, content: { type: "string" } },
    required: ["filePath", "content"],
  },
};

function conversation(messages: FlatMessage[], tools: ToolSpec[] = [bash, write]) {
  return buildConversation({ model: "m", stream: false, system: [], messages, tools });
}

function plan(messages: FlatMessage[], tools?: ToolSpec[], fail = () => true): ReplyPlan {
  const conv = conversation(messages, tools);
  const result = planReply(conv, parseScript(conv.userText), fail);
  if (result.kind !== "reply") throw new Error(`expected a reply, got ${result.status}`);
  return result;
}

describe("parseScript", () => {
  it("finds no directive in plain text and keeps it for the default reply", () => {
    const script = parseScript("hello there\nsecond line");
    expect(script.directives).toEqual([]);
    expect(script.plain).toBe("hello there\nsecond line");
  });

  it("REPLY takes the rest of the message, across lines and directive-looking lines", () => {
    const script = parseScript("THINK: first\nREPLY: one\ntwo\nRUN: not a command");
    expect(script.reply).toBe("one\ntwo\nRUN: not a command");
    expect(script.steps).toEqual([]);
    expect(script.think).toBe("first");
    expect(script.directives).toEqual(["THINK", "REPLY"]);
  });

  it("RUN lines become steps in order; WRITE takes the following lines as content", () => {
    const script = parseScript("RUN: echo a > a.txt\nRUN:   ls -1  \nWRITE: dir/b.txt\nline 1\n\nline 3");
    expect(script.steps).toEqual([
      { kind: "run", command: "echo a > a.txt" },
      { kind: "run", command: "ls -1" },
      { kind: "write", path: "dir/b.txt", content: "line 1\n\nline 3\n" },
    ]);
  });

  it("reads ERROR status, attempt count and message, and SLOW delay", () => {
    expect(parseScript("ERROR: 429 x2").error).toEqual({ status: 429, times: 2, message: null });
    expect(parseScript("ERROR: 503 upstream down").error).toEqual({
      status: 503,
      times: null,
      message: "upstream down",
    });
    expect(parseScript("ERROR: 200").error).toBeNull();
    expect(parseScript("SLOW: 150\nhi").delayMs).toBe(150);
  });

  it("only reads directives at the start of a line, in upper case", () => {
    expect(parseScript("please RUN: rm -rf /").steps).toEqual([]);
    expect(parseScript("run: ls").steps).toEqual([]);
  });

  it("unwraps the double quotes opencode run puts around a message", () => {
    const script = parseScript('"RUN: echo hi\nWRITE: a.txt\nx"');
    expect(script.steps).toEqual([
      { kind: "run", command: "echo hi" },
      { kind: "write", path: "a.txt", content: "x\n" },
    ]);
    expect(parseScript('"say \\"hi\\" now"').plain).toBe('say "hi" now');
    expect(parseScript('"a" and "b"').plain).toBe('"a" and "b"');
  });
});

describe("planReply", () => {
  it("answers a plain prompt with the default reply quoting it", () => {
    expect(plan([{ role: "user", text: "Say hi" }]).text).toBe('Hangar test model: you said "Say hi"');
  });

  it("walks RUN steps one tool call per turn, then reports every output", () => {
    const prompt: FlatMessage = { role: "user", text: "RUN: echo a\nRUN: echo b" };
    const first = plan([prompt]);
    expect(first.toolCall?.tool.name).toBe("bash");
    expect(first.toolCall?.input).toEqual({ command: "echo a" });
    const second = plan([prompt, { role: "assistant", text: "" }, { role: "tool", output: "a\n" }]);
    expect(second.toolCall?.input).toEqual({ command: "echo b" });
    const last = plan([prompt, { role: "tool", output: "a\n" }, { role: "tool", output: "" }]);
    expect(last.toolCall).toBeNull();
    expect(last.text).toBe("Ran `echo a`:\na\n\nRan `echo b`:\n(no output)");
  });

  it("counts only the tool results after the last prompt", () => {
    const messages: FlatMessage[] = [
      { role: "user", text: "RUN: echo old" },
      { role: "tool", output: "old" },
      { role: "assistant", text: "done" },
      { role: "user", text: "RUN: echo new" },
    ];
    expect(plan(messages).toolCall?.input).toEqual({ command: "echo new" });
  });

  it("ends a scripted tool turn with the REPLY text when there is one", () => {
    const prompt: FlatMessage = { role: "user", text: "RUN: true\nREPLY: all done" };
    expect(plan([prompt]).toolCall).not.toBeNull();
    expect(plan([prompt, { role: "tool", output: "" }]).text).toBe("all done");
  });

  it("skips tool steps for requests without tools, and says so when no tool fits", () => {
    expect(plan([{ role: "user", text: "RUN: ls" }], []).text).toBe('Hangar test model: you said "RUN: ls"');
    expect(plan([{ role: "user", text: "RUN: ls" }], [write]).text).toContain("no shell tool");
  });

  it("thinks only on the first answer of a turn", () => {
    const prompt: FlatMessage = { role: "user", text: "THINK: hmm\nRUN: ls" };
    expect(plan([prompt]).thinking).toBe("hmm");
    expect(plan([prompt, { role: "tool", output: "x" }]).thinking).toBeNull();
  });

  it("fails the first N attempts of a prompt, then answers", () => {
    const conv = conversation([{ role: "user", text: "ERROR: 429 x2\nREPLY: ok" }]);
    const script = parseScript(conv.userText);
    const budget = new FailureBudget();
    const key = attemptKey("s1", "chat", conv);
    const attempt = () => planReply(conv, script, () => budget.take(key, script.error?.times ?? null));
    const first = attempt();
    expect(first).toMatchObject({ kind: "error", status: 429 });
    expect(first.kind === "error" && first.message).toContain("try again in 1s");
    expect(attempt().kind).toBe("error");
    expect(attempt()).toMatchObject({ kind: "reply", text: "ok" });
    expect(budget.take(attemptKey("s2", "chat", conv), 2)).toBe(true);
  });

  it("fails every attempt without a count", () => {
    const conv = conversation([{ role: "user", text: "ERROR: 500" }]);
    const budget = new FailureBudget();
    for (let i = 0; i < 5; i++) {
      expect(planReply(conv, parseScript(conv.userText), () => budget.take("k", null)).kind).toBe("error");
    }
  });
});
