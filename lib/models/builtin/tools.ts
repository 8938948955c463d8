import path from "node:path";

import type { Json, JsonObject, JsonSchema, ToolCall, ToolSpec } from "./types";

/*
 * Finding a harness's shell and file-writing tools among the tools a request declares, by name and
 * by input schema, and filling their arguments from the declared schema. Names seen in the pinned
 * harnesses: opencode `bash {command, timeout?, workdir?}` and `write {filePath, content}`; Claude
 * `Bash {command, description?, …}` and `Write {file_path, content}`; Codex `exec_command {cmd, …}`
 * and, for models whose metadata asks for it, a freeform `apply_patch` (older Codex: `shell
 * {command: string[]}`, the `local_shell` built-in).
 */

const SHELL_NAMES = new Set([
  "bash",
  "shell",
  "exec_command",
  "shell_command",
  "local_shell",
  "run_shell_command",
  "run_terminal_cmd",
  "execute_command",
  "terminal",
  "container.exec",
]);
const WRITE_NAMES = new Set(["write", "write_file", "create_file", "writefile"]);
const COMMAND_PROPS = ["command", "cmd"];
const PATH_PROPS = ["file_path", "filePath", "path", "filename", "file", "target_file"];
const CONTENT_PROPS = ["content", "contents", "file_text", "text", "data"];
const DIR_PROPS = new Set(["workdir", "cwd", "working_directory", "workingDirectory", "directory", "dir"]);

function typesOf(schema: JsonSchema | undefined): string[] {
  if (!schema?.type) return [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

function stringProp(schema: JsonSchema, names: string[]): string | null {
  return names.find((n) => typesOf(schema.properties?.[n]).includes("string")) ?? null;
}

/** The property carrying the command, and whether it wants an argv array or a command line. */
function commandProp(tool: ToolSpec): { name: string; argv: boolean } | null {
  if (tool.kind === "local_shell") return { name: "command", argv: true };
  if (tool.kind !== "function") return null;
  for (const name of COMMAND_PROPS) {
    const types = typesOf(tool.schema.properties?.[name]);
    if (types.includes("string")) return { name, argv: false };
    if (types.includes("array")) return { name, argv: true };
  }
  return null;
}

function pickBest<T>(candidates: { value: T; score: number }[]): T | null {
  let best: { value: T; score: number } | null = null;
  for (const c of candidates) if (c.score > 0 && (!best || c.score > best.score)) best = c;
  return best?.value ?? null;
}

export function findShellTool(tools: ToolSpec[]): ToolSpec | null {
  return pickBest(
    tools.map((tool) => {
      const prop = commandProp(tool);
      if (!prop) return { value: tool, score: 0 };
      const name = tool.name.toLowerCase();
      let score = 1;
      if (SHELL_NAMES.has(name)) score += 10;
      else if (/bash|shell|exec|terminal|command/.test(name)) score += 3;
      if (tool.schema.required?.includes(prop.name)) score += 2;
      return { value: tool, score };
    }),
  );
}

/** A tool that writes a whole file from a path and a content argument. */
export function findWriteTool(tools: ToolSpec[]): ToolSpec | null {
  return pickBest(
    tools.map((tool) => {
      if (tool.kind !== "function") return { value: tool, score: 0 };
      if (!stringProp(tool.schema, PATH_PROPS) || !stringProp(tool.schema, CONTENT_PROPS)) {
        return { value: tool, score: 0 };
      }
      const name = tool.name.toLowerCase();
      let score = 1;
      if (WRITE_NAMES.has(name)) score += 10;
      else if (/write|create/.test(name)) score += 3;
      return { value: tool, score };
    }),
  );
}

export function findApplyPatchTool(tools: ToolSpec[]): ToolSpec | null {
  return (
    tools.find(
      (t) =>
        t.name === "apply_patch" &&
        (t.kind === "custom" || (t.kind === "function" && stringProp(t.schema, ["input", "patch"]) !== null)),
    ) ?? null
  );
}

/** A value that satisfies `schema` for a required argument the script has nothing to say about. */
function placeholder(name: string, schema: JsonSchema, cwd: string | null): Json {
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.length) return schema.enum[0] ?? null;
  const types = typesOf(schema);
  if (DIR_PROPS.has(name) && types.includes("string")) return cwd ?? ".";
  if (types.includes("string")) return "";
  if (types.includes("integer") || types.includes("number")) {
    if (/timeout/i.test(name)) return 120_000;
    return schema.minimum ?? 0;
  }
  if (types.includes("boolean")) return false;
  if (types.includes("array")) return [];
  if (types.includes("object")) return {};
  return null;
}

/** Fills the required arguments `given` leaves out, and a `description` when the tool has one. */
function completeArguments(
  schema: JsonSchema,
  given: JsonObject,
  description: string,
  cwd: string | null,
): JsonObject {
  const args: JsonObject = { ...given };
  if (typesOf(schema.properties?.description).includes("string") && !("description" in args)) {
    args.description = description;
  }
  for (const name of schema.required ?? []) {
    if (name in args) continue;
    args[name] = placeholder(name, schema.properties?.[name] ?? {}, cwd);
  }
  return args;
}

export function shellCall(tool: ToolSpec, command: string, cwd: string | null): ToolCall {
  const prop = commandProp(tool) ?? { name: "command", argv: false };
  const value: Json = prop.argv ? ["bash", "-lc", command] : command;
  if (tool.kind === "local_shell") {
    return {
      tool,
      input: { type: "exec", command: value, timeout_ms: null, working_directory: cwd, env: {} },
    };
  }
  return {
    tool,
    input: completeArguments(
      tool.schema,
      { [prop.name]: value },
      "Runs a command the test script asked for",
      cwd,
    ),
  };
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A shell command that writes `content` to `file` with a quoted heredoc (no expansion inside). */
export function heredocCommand(file: string, content: string): string {
  let marker = "HANGAR_EOF";
  while (content.split("\n").includes(marker)) marker += "_";
  const body = content.endsWith("\n") || content === "" ? content : content + "\n";
  const dir = path.posix.dirname(file);
  const mkdir = dir === "." || dir === "/" ? "" : `mkdir -p ${shellQuote(dir)} && `;
  return `${mkdir}cat > ${shellQuote(file)} <<'${marker}'\n${body}${marker}`;
}

/** An apply_patch "Add File" hunk holding the whole content. */
export function addFilePatch(file: string, content: string): string {
  const lines = content === "" ? [] : content.replace(/\n$/, "").split("\n");
  return ["*** Begin Patch", `*** Add File: ${file}`, ...lines.map((l) => `+${l}`), "*** End Patch", ""].join(
    "\n",
  );
}

function absolute(file: string, cwd: string | null): string {
  return cwd && !path.posix.isAbsolute(file) ? path.posix.join(cwd, file) : file;
}

/**
 * A call that writes a file through the best tool declared: a write tool, else Codex's apply_patch,
 * else a heredoc through the shell tool. Null when none of them is declared.
 */
export function writeCall(
  tools: ToolSpec[],
  file: string,
  content: string,
  cwd: string | null,
): ToolCall | null {
  const writer = findWriteTool(tools);
  if (writer) {
    const pathProp = stringProp(writer.schema, PATH_PROPS) ?? "path";
    const contentProp = stringProp(writer.schema, CONTENT_PROPS) ?? "content";
    return {
      tool: writer,
      input: completeArguments(
        writer.schema,
        { [pathProp]: absolute(file, cwd), [contentProp]: content },
        "Writes a file the test script asked for",
        cwd,
      ),
    };
  }
  const patcher = findApplyPatchTool(tools);
  if (patcher) {
    const patch = addFilePatch(absolute(file, cwd), content);
    if (patcher.kind === "custom") return { tool: patcher, input: patch };
    const prop = stringProp(patcher.schema, ["input", "patch"]) ?? "input";
    return {
      tool: patcher,
      input: completeArguments(patcher.schema, { [prop]: patch }, "Writes a file", cwd),
    };
  }
  const shell = findShellTool(tools);
  return shell ? shellCall(shell, heredocCommand(file, content), cwd) : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a declared input schema leniently: anything malformed is simply not there. */
export function toSchema(value: unknown): JsonSchema {
  if (!isRecord(value)) return {};
  const schema: JsonSchema = {};
  const { type, description, properties, required, enum: choices, minimum, items } = value;
  if (typeof type === "string" || (Array.isArray(type) && type.every((t) => typeof t === "string"))) {
    schema.type = type;
  }
  if (typeof description === "string") schema.description = description;
  if (isRecord(properties)) {
    schema.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, toSchema(v)]));
  }
  if (Array.isArray(required)) schema.required = required.filter((r) => typeof r === "string");
  if (Array.isArray(choices)) schema.enum = choices as Json[];
  if ("default" in value) schema.default = value.default as Json;
  if (typeof minimum === "number") schema.minimum = minimum;
  if (items !== undefined) schema.items = toSchema(items);
  return schema;
}
