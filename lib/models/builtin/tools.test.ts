import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { describe, expect, it } from "vitest";

import {
  addFilePatch,
  findShellTool,
  findWriteTool,
  heredocCommand,
  shellCall,
  toSchema,
  writeCall,
} from "./tools";
import type { ToolSpec } from "./types";

// Input schemas as the pinned harnesses declare them (trimmed to the properties).
const fn = (name: string, schema: unknown): ToolSpec => ({
  name,
  kind: "function",
  description: "",
  schema: toSchema(schema),
});
const obj = (properties: Record<string, unknown>, required: string[]) => ({
  type: "object",
  properties,
  required,
});
const str = { type: "string" };

const claude = [
  fn("Agent", obj({ description: str, prompt: str, subagent_type: str }, ["description", "prompt"])),
  fn(
    "Bash",
    obj(
      { command: str, timeout: { type: "number" }, description: str, run_in_background: { type: "boolean" } },
      ["command"],
    ),
  ),
  fn(
    "Edit",
    obj({ file_path: str, old_string: str, new_string: str }, ["file_path", "old_string", "new_string"]),
  ),
  fn("Read", obj({ file_path: str, offset: { type: "number" } }, ["file_path"])),
  fn("Write", obj({ file_path: str, content: str }, ["file_path", "content"])),
];
const opencode = [
  fn("bash", obj({ command: str, timeout: { type: "integer" }, workdir: str }, ["command"])),
  fn("edit", obj({ filePath: str, oldString: str, newString: str }, ["filePath", "oldString", "newString"])),
  fn("todowrite", obj({ todos: { type: "array" } }, ["todos"])),
  fn("write", obj({ content: str, filePath: str }, ["content", "filePath"])),
];
const codex = [
  fn("exec_command", obj({ cmd: str, workdir: str, yield_time_ms: { type: "number" } }, ["cmd"])),
  fn("write_stdin", obj({ session_id: { type: "number" }, chars: str }, ["session_id"])),
  fn("view_image", obj({ path: str }, ["path"])),
];
const applyPatch: ToolSpec = { name: "apply_patch", kind: "custom", description: "", schema: {} };

describe("shell tool", () => {
  it("picks each harness's shell tool and fills its schema", () => {
    expect(shellCall(findShellTool(claude)!, "ls", "/w").input).toEqual({
      command: "ls",
      description: "Runs a command the test script asked for",
    });
    expect(shellCall(findShellTool(opencode)!, "ls", "/w").input).toEqual({ command: "ls" });
    expect(shellCall(findShellTool(codex)!, "ls", "/w").input).toEqual({ cmd: "ls" });
  });

  it("recognises a shell by schema under an unknown name, and argv-style commands", () => {
    const custom = fn(
      "run_it",
      obj({ command: { type: "array", items: str }, workdir: str }, ["command", "workdir"]),
    );
    const call = shellCall(findShellTool([codex[1]!, custom])!, "echo hi", "/work");
    expect(call.input).toEqual({ command: ["bash", "-lc", "echo hi"], workdir: "/work" });
    const local: ToolSpec = { name: "local_shell", kind: "local_shell", description: "", schema: {} };
    expect(shellCall(local, "pwd", null).input).toMatchObject({
      type: "exec",
      command: ["bash", "-lc", "pwd"],
    });
  });

  it("finds nothing when no tool takes a command", () => {
    expect(findShellTool([codex[1]!, codex[2]!])).toBeNull();
  });
});

describe("file writing", () => {
  it("uses the write tool with an absolute path", () => {
    expect(writeCall(claude, "a/b.txt", "x\n", "/w")).toMatchObject({
      tool: { name: "Write" },
      input: { file_path: "/w/a/b.txt", content: "x\n" },
    });
    expect(writeCall(opencode, "/abs.txt", "y\n", "/w")).toMatchObject({
      tool: { name: "write" },
      input: { filePath: "/abs.txt", content: "y\n" },
    });
    expect(findWriteTool(codex)).toBeNull();
  });

  it("uses Codex's freeform apply_patch when declared", () => {
    const call = writeCall([...codex, applyPatch], "notes.txt", "one\ntwo\n", "/w");
    expect(call?.tool.name).toBe("apply_patch");
    expect(call?.input).toBe(addFilePatch("/w/notes.txt", "one\ntwo\n"));
    expect(call?.input).toBe("*** Begin Patch\n*** Add File: /w/notes.txt\n+one\n+two\n*** End Patch\n");
  });

  it("falls back to a heredoc through the shell that writes the content exactly", () => {
    const content = "it's $HOME `date`\nHANGAR_EOF\n\\n end\n";
    const call = writeCall(codex, "sub/out.txt", content, null);
    expect(call?.tool.name).toBe("exec_command");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-heredoc-"));
    try {
      execFileSync("bash", ["-c", heredocCommand("sub/out.txt", content)], { cwd: dir });
      expect(fs.readFileSync(path.join(dir, "sub/out.txt"), "utf8")).toBe(content);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
