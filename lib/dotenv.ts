import { ENV_KEY_PATTERN } from "./schemas/env-vars";

/*
 * A small, line-based .env reader for the "Paste .env" dialog. Pure: it runs in the browser and in
 * tests. Deliberately no multi-line values: a stray quote would otherwise swallow the lines after
 * it without a word; write newlines as \n inside double quotes instead.
 */

export type DotenvResult = {
  /** In first-seen order; a key given twice keeps its last value, as a shell would. */
  entries: [string, string][];
  /** Lines that could not be read, 1-based, with their raw text. */
  errors: { line: number; text: string }[];
};

const ASSIGNMENT = /^(?:export\s+)?([^\s=]+)\s*=(.*)$/;

/** Text after a closing quote may only be blank or a comment. */
function isTrailerOk(rest: string): boolean {
  const trimmed = rest.trim();
  return trimmed === "" || trimmed.startsWith("#");
}

function readDoubleQuoted(body: string): string | null {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '"') return isTrailerOk(body.slice(i + 1)) ? out : null;
    if (c === "\\" && i + 1 < body.length) {
      const next = body[i + 1];
      i++;
      if (next === "n") out += "\n";
      else if (next === '"' || next === "\\") out += next;
      // Unknown escapes stay as written, so Windows paths and regexes survive.
      else out += "\\" + next;
      continue;
    }
    out += c;
  }
  return null;
}

function readSingleQuoted(body: string): string | null {
  const end = body.indexOf("'");
  if (end < 0 || !isTrailerOk(body.slice(end + 1))) return null;
  return body.slice(0, end);
}

function readValue(raw: string): string | null {
  const start = raw.trimStart();
  if (start.startsWith('"')) return readDoubleQuoted(start.slice(1));
  if (start.startsWith("'")) return readSingleQuoted(start.slice(1));
  // A # only starts a comment after whitespace (`K= #c` is empty), so `a#b` and URL fragments stay.
  return raw.replace(/\s+#.*$/, "").trim();
}

export function parseDotenv(text: string): DotenvResult {
  const values = new Map<string, string>();
  const errors: DotenvResult["errors"] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = ASSIGNMENT.exec(line);
    const key = match?.[1];
    const value = match && key && ENV_KEY_PATTERN.test(key) ? readValue(match[2] ?? "") : null;
    if (key === undefined || value === null) {
      errors.push({ line: i + 1, text: raw });
      return;
    }
    values.set(key, value);
  });
  return { entries: [...values.entries()], errors };
}
