"use client";

import { ClipboardPaste, Plus } from "lucide-react";
import { useEffect, useId, useRef, useState } from "react";

import { Button } from "@/components/ui/button";
import { FieldError } from "@/components/ui/field";
import { formatBytes, Meter } from "@/components/ui/meter";
import {
  ENV_VARS_MAX_BYTES,
  ENV_VARS_MAX_KEYS,
  envKeyProblem,
  SECRET_MASK,
  utf8Length,
} from "@/lib/schemas/env-vars";

import { EnvPasteDialog } from "./env-paste-dialog";
import { EnvVarRow, type EnvRow, type EnvRowField } from "./env-var-row";

export type EnvVarEditorProps = {
  value: Record<string, string>;
  onChange: (next: Record<string, string>) => void;
  /** Keys the server holds a secret for; their values arrive as SECRET_MASK. */
  storedKeys: string[];
  /**
   * Reserved keys this editor accepts anyway, from the schema the form submits to (the session
   * forms pass SESSION_ALLOWED_RESERVED_ENV_KEYS, for GIT_TOKEN). None by default: agents.
   */
  allowedKeys?: readonly string[];
  /** Server errors by key. */
  errors?: Record<string, string>;
  formError?: string;
};

// Row ids only need to be unique within one editor; rows made after the first render use this.
let rowCounter = 0;
const newRowId = () => `new-${++rowCounter}`;

function rowsFrom(
  value: Record<string, string>,
  storedKeys: string[],
  idOf: (i: number) => string,
): EnvRow[] {
  return Object.entries(value).map(([key, v], i) => {
    const stored = storedKeys.includes(key) && v === SECRET_MASK;
    return { id: idOf(i), key, value: stored ? "" : v, stored, fromStore: stored, revealed: false };
  });
}

/** The record to emit: empty keys skipped, and only the first row of a repeated key. */
function toRecord(rows: EnvRow[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const row of rows) {
    if (row.key === "" || Object.hasOwn(record, row.key)) continue;
    // A replaced secret left empty still means "keep what is stored".
    record[row.key] = row.stored || (row.fromStore && row.value === "") ? SECRET_MASK : row.value;
  }
  return record;
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function rowProblems(
  rows: EnvRow[],
  allowedKeys: readonly string[],
  errors: Record<string, string> | undefined,
): (string | null)[] {
  const seen = new Set<string>();
  return rows.map((row) => {
    if (row.key === "") return row.value ? envKeyProblem("") : null;
    if (seen.has(row.key)) return `${row.key} is already set above; this row is ignored`;
    seen.add(row.key);
    return envKeyProblem(row.key, allowedKeys) ?? errors?.[row.key] ?? null;
  });
}

/** `rows` with pasted `entries` set: an existing key takes the new value, a new key gets a row. */
function mergePasted(rows: EnvRow[], entries: [string, string][]): EnvRow[] {
  // Blank placeholder rows would only sit between the old and the pasted variables.
  const next = rows.filter((row) => row.key !== "" || row.value !== "");
  for (const [key, val] of entries) {
    const at = next.findIndex((row) => row.key === key);
    const existing = next[at];
    if (existing) next[at] = { ...existing, value: val, stored: false };
    else next.push({ id: newRowId(), key, value: val, stored: false, fromStore: false, revealed: false });
  }
  return next;
}

export function EnvVarEditor({
  value,
  onChange,
  storedKeys,
  allowedKeys = [],
  errors,
  formError,
}: EnvVarEditorProps) {
  const id = useId();
  const [rows, setRows] = useState(() => rowsFrom(value, storedKeys, (i) => `init-${i}`));
  // The record this editor last saw or sent: a different `value` (a form reset) rebuilds the rows.
  const [synced, setSynced] = useState(value);
  const [pasting, setPasting] = useState(false);
  const elements = useRef(new Map<string, HTMLElement>());
  const pendingFocus = useRef<string | null>(null);
  const addButton = useRef<HTMLButtonElement>(null);

  if (!sameRecord(value, synced)) {
    setSynced(value);
    setRows(rowsFrom(value, storedKeys, newRowId));
  }

  useEffect(() => {
    if (pendingFocus.current === null) return;
    const target =
      pendingFocus.current === "add" ? addButton.current : elements.current.get(pendingFocus.current);
    pendingFocus.current = null;
    target?.focus();
  });

  const record = toRecord(rows);
  const problems = rowProblems(rows, allowedKeys, errors);
  const keyCount = Object.keys(record).length;
  const bytes = utf8Length(JSON.stringify(record));

  function commit(next: EnvRow[]) {
    const nextRecord = toRecord(next);
    setRows(next);
    setSynced(nextRecord);
    if (!sameRecord(nextRecord, record)) onChange(nextRecord);
  }

  function focusLater(rowId: string | "add", field?: EnvRowField) {
    pendingFocus.current = rowId === "add" ? "add" : `${rowId}:${field}`;
  }

  function addRow() {
    const row: EnvRow = {
      id: newRowId(),
      key: "",
      value: "",
      stored: false,
      fromStore: false,
      revealed: false,
    };
    focusLater(row.id, "key");
    commit([...rows, row]);
  }

  function removeRow(index: number) {
    const next = rows.filter((_, i) => i !== index);
    // Keep focus in the list: the row that slid into this place, else the one above, else "Add".
    const neighbour = next[index] ?? next[index - 1];
    focusLater(neighbour ? neighbour.id : "add", "remove");
    commit(next);
  }

  function applyPasted(entries: [string, string][]) {
    commit(mergePasted(rows, entries));
  }

  return (
    <div className="flex flex-col gap-3">
      {rows.length > 0 ? (
        <div className="flex flex-col gap-2">
          <div
            aria-hidden
            className="grid grid-cols-[minmax(0,2fr)_minmax(0,3fr)_28px] gap-2 text-[11px] text-fg-subtle"
          >
            <span>Name</span>
            <span>Value</span>
          </div>
          <ul aria-label="Environment variables" className="flex flex-col gap-2">
            {rows.map((row, i) => (
              <EnvVarRow
                key={row.id}
                row={row}
                index={i}
                domId={`${id}-${row.id}`}
                problem={problems[i] ?? null}
                onEdit={(patch) => commit(rows.map((r) => (r.id === row.id ? { ...r, ...patch } : r)))}
                onReplace={() => {
                  focusLater(row.id, "value");
                  commit(rows.map((r) => (r.id === row.id ? { ...r, stored: false, value: "" } : r)));
                }}
                onRemove={() => removeRow(i)}
                refFor={(field) => (el) => {
                  const name = `${row.id}:${field}`;
                  if (el) elements.current.set(name, el);
                  else elements.current.delete(name);
                }}
              />
            ))}
          </ul>
        </div>
      ) : (
        <p className="text-xs text-fg-muted">No environment variables.</p>
      )}

      <div className="flex flex-wrap items-center gap-2">
        <Button ref={addButton} size="sm" onClick={addRow}>
          <Plus size={14} aria-hidden />
          Add variable
        </Button>
        <Button size="sm" variant="ghost" onClick={() => setPasting(true)}>
          <ClipboardPaste size={14} aria-hidden />
          Paste .env
        </Button>
        <EnvVarMeters keyCount={keyCount} bytes={bytes} />
      </div>
      <FieldError message={formError} />

      <EnvPasteDialog open={pasting} onClose={() => setPasting(false)} onApply={applyPasted} />
    </div>
  );
}

/** How many variables there are and their size as JSON, against the limits. */
function EnvVarMeters({ keyCount, bytes }: { keyCount: number; bytes: number }) {
  // Fixed widths: a Meter sizes to its content, which would run its label into its value.
  return (
    <div className="ml-auto flex gap-4">
      <div className="w-36">
        <Meter
          label="Variables"
          value={keyCount}
          max={ENV_VARS_MAX_KEYS}
          display={`${keyCount} / ${ENV_VARS_MAX_KEYS}`}
        />
      </div>
      <div className="w-44">
        <Meter
          label="Size as JSON"
          value={bytes}
          max={ENV_VARS_MAX_BYTES}
          display={`${formatBytes(bytes)} / ${ENV_VARS_MAX_BYTES / 1024} KB`}
        />
      </div>
    </div>
  );
}
