"use client";

import { diffLines } from "diff";
import { useMemo, useState } from "react";

import { cn } from "@/lib/cn";

type Line = { kind: "add" | "del" | "same"; text: string; oldNo?: number; newNo?: number };
type Row = ({ type: "line" } & Line) | { type: "gap"; id: number; lines: Line[] };

/** Unchanged lines kept around each change; longer unchanged runs fold into a "show" row. */
const CONTEXT = 3;

function splitLines(value: string): string[] {
  const lines = value.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

export function computeDiff(oldText: string, newText: string) {
  // A timeout keeps a pathological pair of 256 KB texts from freezing the page.
  const changes = diffLines(oldText, newText, { ignoreNewlineAtEof: true, timeout: 1500 });
  if (!changes) return null;
  const lines: Line[] = [];
  let oldNo = 1;
  let newNo = 1;
  let added = 0;
  let removed = 0;
  for (const change of changes) {
    for (const text of splitLines(change.value)) {
      if (change.added) {
        lines.push({ kind: "add", text, newNo: newNo++ });
        added++;
      } else if (change.removed) {
        lines.push({ kind: "del", text, oldNo: oldNo++ });
        removed++;
      } else {
        lines.push({ kind: "same", text, oldNo: oldNo++, newNo: newNo++ });
      }
    }
  }
  return { lines, added, removed };
}

function foldContext(lines: Line[]): Row[] {
  const rows: Row[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.kind !== "same") {
      rows.push({ type: "line", ...lines[i]! });
      i++;
      continue;
    }
    let end = i;
    while (end < lines.length && lines[end]!.kind === "same") end++;
    const run = lines.slice(i, end);
    const keepHead = i === 0 ? 0 : CONTEXT;
    const keepTail = end === lines.length ? 0 : CONTEXT;
    if (run.length > keepHead + keepTail + 1) {
      run.slice(0, keepHead).forEach((l) => rows.push({ type: "line", ...l }));
      rows.push({ type: "gap", id: i, lines: run.slice(keepHead, run.length - keepTail) });
      run.slice(run.length - keepTail).forEach((l) => rows.push({ type: "line", ...l }));
    } else {
      run.forEach((l) => rows.push({ type: "line", ...l }));
    }
    i = end;
  }
  return rows;
}

const LINE_STYLE = {
  add: { row: "bg-success-subtle", sign: "+", signClass: "text-success", label: "added" },
  del: { row: "bg-danger-subtle", sign: "−", signClass: "text-danger", label: "removed" },
  same: { row: "", sign: " ", signClass: "", label: "" },
} as const;

/** "+3 −1 lines", with a plain sentence for screen readers. */
export function DiffSummary({ added, removed }: { added: number; removed: number }) {
  return (
    <span className="text-xs tabular-nums">
      <span aria-hidden>
        <span className="text-success">+{added}</span> <span className="text-danger">−{removed}</span>{" "}
        <span className="text-fg-muted">lines</span>
      </span>
      <span className="sr-only">
        {added} {added === 1 ? "line" : "lines"} added, {removed} removed
      </span>
    </span>
  );
}

/** A unified line diff from `oldText` to `newText`, with +/− gutters and folded unchanged runs. */
export function SkillDiff({ oldText, newText, label }: { oldText: string; newText: string; label: string }) {
  const diff = useMemo(() => computeDiff(oldText, newText), [oldText, newText]);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const rows = useMemo(() => (diff ? foldContext(diff.lines) : []), [diff]);

  if (!diff) {
    return <p className="text-xs text-fg-muted">These versions differ too much to compare here.</p>;
  }

  return (
    <div className="flex flex-col gap-2">
      <DiffSummary added={diff.added} removed={diff.removed} />
      {diff.added + diff.removed === 0 ? (
        <p className="text-xs text-fg-muted">The content is the same.</p>
      ) : (
        <div
          role="region"
          aria-label={label}
          // Focusable so keyboard users can scroll long or wide diffs.
          tabIndex={0}
          className="max-h-[60vh] overflow-auto rounded-md border border-border bg-bg font-mono text-[12px] leading-5"
        >
          <div className="w-max min-w-full">
            {rows.map((row) =>
              row.type === "gap" && !expanded.has(row.id) ? (
                <button
                  key={`gap-${row.id}`}
                  type="button"
                  onClick={() => setExpanded((prev) => new Set(prev).add(row.id))}
                  className="block h-6 w-full bg-bg-subtle px-3 text-left font-sans text-[11px] text-fg-muted hover:bg-bg-muted hover:text-fg"
                >
                  Show {row.lines.length} unchanged lines
                </button>
              ) : row.type === "gap" ? (
                row.lines.map((line) => <DiffLine key={`o${line.oldNo}`} line={line} />)
              ) : (
                <DiffLine key={`${row.kind}-${row.oldNo ?? ""}-${row.newNo ?? ""}`} line={row} />
              ),
            )}
          </div>
        </div>
      )}
    </div>
  );
}

function DiffLine({ line }: { line: Line }) {
  const style = LINE_STYLE[line.kind];
  return (
    <div className={cn("flex min-h-5", style.row)}>
      <span aria-hidden className="w-9 shrink-0 pr-1.5 text-right text-fg-subtle select-none">
        {line.oldNo ?? ""}
      </span>
      <span aria-hidden className="w-9 shrink-0 pr-1.5 text-right text-fg-subtle select-none">
        {line.newNo ?? ""}
      </span>
      <span aria-hidden className={cn("w-4 shrink-0 text-center select-none", style.signClass)}>
        {style.sign}
      </span>
      <span className="pr-3 whitespace-pre">
        {style.label && <span className="sr-only">{style.label}: </span>}
        {line.text}
      </span>
    </div>
  );
}
