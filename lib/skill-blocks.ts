/*
 * Skills attached to an agent live inside its prompt as blocks: a marker line
 * `<!-- skill:<id> -->`, then the skill's trimmed content; blocks are separated by a blank line.
 * The prompt is the single source of which skills are attached and in what order. Pure functions:
 * the agent form uses them to preview the prompt.
 */

const MARKER = /(?:^|\n)<!-- skill:([^\s>]+) -->(?=\n|$)/g;

function markerLine(id: string): string {
  return `<!-- skill:${id} -->`;
}

/** The ids of the attached skills, in prompt order, without repeats. */
export function parseSkillIds(prompt: string | null | undefined): string[] {
  if (!prompt) return [];
  const ids = [...prompt.matchAll(MARKER)].map((m) => m[1] as string);
  return [...new Set(ids)];
}

export function hasSkillBlock(prompt: string | null | undefined, id: string): boolean {
  return parseSkillIds(prompt).includes(id);
}

/** Appends a skill block, unless the prompt already has one for this id (idempotent). */
export function appendSkillBlock(prompt: string | null | undefined, id: string, content: string): string {
  const base = (prompt ?? "").trimEnd();
  if (hasSkillBlock(base, id)) return base;
  const block = `${markerLine(id)}\n${content.trim()}`;
  return base ? `${base}\n\n${block}` : block;
}

/** Removes one skill's block, or every block when no id is given. */
export function stripSkillBlocks(prompt: string | null | undefined, id?: string): string {
  if (!prompt) return "";
  const starts = [...prompt.matchAll(MARKER)].map((m) => ({
    id: m[1] as string,
    // The match may begin with the newline before the marker.
    at: m.index + (m[0].startsWith("\n") ? 1 : 0),
  }));
  const head = prompt.slice(0, starts[0]?.at ?? prompt.length).trimEnd();
  const kept = starts
    .map((block, i) => ({ id: block.id, text: prompt.slice(block.at, starts[i + 1]?.at).trimEnd() }))
    .filter((block) => id !== undefined && block.id !== id)
    .map((block) => block.text);
  return [head, ...kept].filter((part) => part !== "").join("\n\n");
}

/** The prompt text before the first skill block: what a person wrote. */
export function basePrompt(prompt: string | null | undefined): string {
  return stripSkillBlocks(prompt);
}

function firstMarkerAt(prompt: string): number {
  const m = new RegExp(MARKER.source).exec(prompt);
  if (!m) return -1;
  return m.index + (m[0].startsWith("\n") ? 1 : 0);
}

/** The skill blocks of `prompt` under a new base text: what an edit form sends to keep the snapshots. */
export function withBasePrompt(prompt: string | null | undefined, base: string | null | undefined): string {
  const head = (base ?? "").trimEnd();
  const full = prompt ?? "";
  const at = firstMarkerAt(full);
  if (at < 0) return head;
  const blocks = full.slice(at);
  return head ? `${head}\n\n${blocks}` : blocks;
}

/** Each attached skill's snapshot content, by id, as it stands in the prompt. */
export function skillSnapshots(prompt: string | null | undefined): Record<string, string> {
  const full = prompt ?? "";
  const matches = [...full.matchAll(MARKER)];
  return Object.fromEntries(
    matches.map((m, i) => [
      m[1] as string,
      full.slice(m.index + m[0].length, matches[i + 1]?.index ?? full.length).trim(),
    ]),
  );
}
