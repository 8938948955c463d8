// @ts-check
// Everything the CLI prints goes through out() or err(), and so through redact(): the master key and
// terminal tokens are registered in `secrets` as soon as they are known.

/** Strings that must never reach the screen. @type {Set<string>} */
export const secrets = new Set();

/** @param {unknown} text */
export function redact(text) {
  let out = String(text);
  for (const secret of secrets) if (secret) out = out.split(secret).join("***");
  return out;
}

/** @param {string} [text] */
export function out(text = "") {
  process.stdout.write(redact(text) + "\n");
}

/** @param {string} [text] */
export function err(text = "") {
  process.stderr.write(redact(text) + "\n");
}

/**
 * Prints rows under headers, each column as wide as its widest cell, the last one unpadded.
 * @param {unknown[][]} rows
 * @param {string[]} headers
 */
export function table(rows, headers) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)));
  /** @param {unknown[]} cells */
  const line = (cells) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? String(c ?? "") : String(c ?? "").padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  out(line(headers));
  for (const row of rows) out(line(row));
}

/**
 * @param {unknown} text
 * @param {number} max
 */
export function truncate(text, max) {
  const s = String(text ?? "");
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/**
 * An ISO timestamp as local `YYYY-MM-DD hh:mm:ss`; the input as is when it is not a date.
 * @param {string | null | undefined} iso
 */
export function localTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  /** @param {number} n */
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
