/** What a dropped SKILL.md file becomes: the fields of a new skill. */
export type ParsedSkillFile = {
  /** Empty when neither the frontmatter, a `# Heading` nor a useful file name gives one. */
  name: string;
  description: string | null;
  content: string;
};

const FENCE = /^\s{0,3}(```|~~~)/;
const H1 = /^\s{0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/;

/**
 * Parses a SKILL.md (or any markdown file): optional `---` frontmatter with `name:` and
 * `description:`, then the body. The name falls back to the first level-one heading, then the
 * file name; a file called SKILL.md is named after its heading only, as its folder is unknown.
 */
export function parseSkillFile(text: string, fileName: string): ParsedSkillFile {
  // Files from Windows editors arrive with CRLF and sometimes a BOM; the stored skill is LF-only.
  const normalized = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const { fields, body } = splitFrontmatter(normalized);
  const content = body.trim();
  const name = fields.name?.trim() || firstHeading(content) || nameFromFile(fileName);
  const description = fields.description?.trim() || null;
  return { name, description, content };
}

function splitFrontmatter(text: string): { fields: Record<string, string>; body: string } {
  const lines = text.split("\n");
  if (lines[0]?.trim() !== "---") return { fields: {}, body: text };
  const end = lines.findIndex((line, i) => i > 0 && (line.trim() === "---" || line.trim() === "..."));
  // An unclosed `---` is a thematic break, not frontmatter: keep the whole file as the body.
  if (end === -1) return { fields: {}, body: text };
  return { fields: parseFields(lines.slice(1, end)), body: lines.slice(end + 1).join("\n") };
}

/** Top-level `key: value` pairs; enough YAML for SKILL.md headers, including `>`/`|` blocks. */
function parseFields(lines: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const match = /^([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*))?$/.exec(lines[i] ?? "");
    if (!match) continue;
    const key = match[1] as string;
    const raw = (match[2] ?? "").trim();
    const block = /^([>|])[+-]?$/.exec(raw);
    if (block || raw === "") {
      const indented: string[] = [];
      while (i + 1 < lines.length && /^(\s+\S|\s*$)/.test(lines[i + 1] ?? ""))
        indented.push(lines[++i] ?? "");
      const parts = indented.map((line) => line.trim());
      fields[key] = block?.[1] === "|" ? parts.join("\n") : parts.filter(Boolean).join(" ");
    } else {
      fields[key] = unquote(raw);
    }
  }
  return fields;
}

function unquote(raw: string): string {
  if (raw.startsWith('"')) {
    const end = closingQuote(raw, '"');
    const inner = raw.slice(1, end === -1 ? undefined : end);
    return inner.replace(/\\(["\\/nt])/g, (_, c: string) => ({ n: "\n", t: "\t" })[c] ?? c);
  }
  if (raw.startsWith("'")) {
    const end = closingQuote(raw, "'");
    return raw.slice(1, end === -1 ? undefined : end).replace(/''/g, "'");
  }
  // In a plain YAML scalar only ` #` starts a comment, so "C# tips" stays whole.
  return raw.replace(/\s+#.*$/, "");
}

function closingQuote(raw: string, quote: string): number {
  for (let i = 1; i < raw.length; i++) {
    if (quote === '"' && raw[i] === "\\") i++;
    else if (quote === "'" && raw[i] === "'" && raw[i + 1] === "'") i++;
    else if (raw[i] === quote) return i;
  }
  return -1;
}

function firstHeading(markdown: string): string {
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (FENCE.test(line)) fenced = !fenced;
    else if (!fenced) {
      const match = H1.exec(line);
      if (match) return (match[1] as string).trim();
    }
  }
  return "";
}

function nameFromFile(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? "";
  const stem = base.replace(/\.(md|markdown)$/i, "").trim();
  return stem.toUpperCase() === "SKILL" ? "" : stem;
}
