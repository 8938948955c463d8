"use client";

import { FolderOpen, LoaderCircle } from "lucide-react";
import { useId, useLayoutEffect, useRef, useState } from "react";

import { Button } from "@/components/ui/button";
import { FieldError } from "@/components/ui/field";
import { formatBytes, Meter } from "@/components/ui/meter";
import {
  DEFAULT_CONTENT_TYPE,
  SANDBOX_FILES_MAX,
  SANDBOX_FILES_MAX_BASE64,
} from "@/lib/schemas/sandbox-file";

import { readBase64, SandboxDropZone } from "./sandbox-drop-zone";
import { fileProblems, ROW_GRID, SandboxFileRow, type FileField, type FormFile } from "./sandbox-file-row";

export type { FormFile } from "./sandbox-file-row";

export type SandboxFilesEditorProps = {
  value: FormFile[];
  onChange: (next: FormFile[]) => void;
  /** Server errors by file index and field. */
  errors?: Record<number, Partial<Record<FileField, string>>>;
  formError?: string;
  /** Where a row's file can be downloaded, or null (new files have nothing to download yet). */
  downloadHref?: (file: FormFile, index: number) => string | null;
};

/** A `downloadHref` for an agent's kept files: they are found by sha256 in the agent's stored list. */
export function storedFileHref(agentId: string, stored: { index: number; sha256: string }[]) {
  const indexBySha = new Map(stored.map((f) => [f.sha256, f.index]));
  return (file: FormFile): string | null => {
    const index = "sha256" in file ? indexBySha.get(file.sha256) : undefined;
    return index === undefined
      ? null
      : `/api/v1/managed_agents/agents/${encodeURIComponent(agentId)}/files/${index}`;
  };
}

const MAX_LABEL = `${SANDBOX_FILES_MAX_BASE64 / 1024 / 1024} MB`;

const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

// Only new content counts toward the limit, as in the schema: kept files travel as a sha256.
const base64Total = (files: FormFile[]) =>
  files.reduce((sum, f) => sum + ("content" in f ? f.content.length : 0), 0);

type Reading = { id: string; name: string; size: number };
let readCounter = 0;

/**
 * Which of `files` fit next to `count` files and `total` base64 bytes, each given a reading row; the
 * others get a reason.
 */
function admitFiles(files: File[], count: number, total: number) {
  const rejected: string[] = [];
  const accepted: { file: File; row: Reading }[] = [];
  let nextCount = count;
  let nextTotal = total;
  for (const file of files) {
    const size = base64Length(file.size);
    if (nextCount + 1 > SANDBOX_FILES_MAX) {
      rejected.push(`${file.name} was not added: an agent holds at most ${SANDBOX_FILES_MAX} files.`);
    } else if (nextTotal + size > SANDBOX_FILES_MAX_BASE64) {
      rejected.push(
        `${file.name} (${formatBytes(file.size)}) was not added: it would bring new files to ` +
          `${formatBytes(nextTotal + size)} as base64, over the ${MAX_LABEL} limit.`,
      );
    } else {
      nextCount++;
      nextTotal += size;
      accepted.push({ file, row: { id: `read-${++readCounter}`, name: file.name, size: file.size } });
    }
  }
  return { rejected, accepted };
}

/** Reads every file; the ones read become form files, in the order given, whichever finishes first. */
async function readFiles(files: File[]) {
  const results = await Promise.allSettled(files.map((file) => readBase64(file)));
  const added: FormFile[] = [];
  const failed: string[] = [];
  results.forEach((result, i) => {
    const file = files[i];
    if (!file) return;
    if (result.status === "rejected") {
      failed.push(`${file.name} could not be read.`);
      return;
    }
    added.push({
      name: file.name,
      sandbox_path: `~/${file.name}`,
      content_type: file.type || DEFAULT_CONTENT_TYPE,
      size: file.size,
      content: result.value,
    });
  });
  return { added, failed };
}

export function SandboxFilesEditor({
  value,
  onChange,
  errors,
  formError,
  downloadHref,
}: SandboxFilesEditorProps) {
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const chooseRef = useRef<HTMLButtonElement>(null);
  // Reads finish after later renders; they must append to the newest list, not the one they began with.
  const latest = useRef(value);
  useLayoutEffect(() => {
    latest.current = value;
  });
  const [reading, setReading] = useState<Reading[]>([]);
  const [notices, setNotices] = useState<string[]>([]);

  const count = value.length + reading.length;
  const total = base64Total(value) + reading.reduce((sum, r) => sum + base64Length(r.size), 0);
  const problems = fileProblems(value, errors);

  function emit(next: FormFile[]) {
    latest.current = next;
    onChange(next);
  }

  async function addFiles(files: File[]) {
    const { rejected, accepted } = admitFiles(files, count, total);
    setNotices(rejected);
    if (accepted.length === 0) return;
    const rows = accepted.map((a) => a.row);
    setReading((r) => [...r, ...rows]);
    // One batch, appended in the order chosen, whichever file finishes reading first.
    const { added, failed } = await readFiles(accepted.map((a) => a.file));
    setReading((r) => r.filter((x) => !rows.includes(x)));
    if (failed.length) setNotices((n) => [...n, ...failed]);
    if (added.length) emit([...latest.current, ...added]);
  }

  function removeAt(index: number) {
    emit(value.filter((_, i) => i !== index));
    // Index-keyed rows: the next row's remove button takes the focus; only the last needs help.
    if (index === value.length - 1) chooseRef.current?.focus();
  }

  return (
    <div className="flex flex-col gap-3">
      <SandboxDropZone
        inputRef={inputRef}
        onFiles={(files) => void addFiles(files)}
        hint={`Up to ${SANDBOX_FILES_MAX} files and ${MAX_LABEL} of new content`}
      />

      {notices.length > 0 && (
        <ul role="alert" className="flex flex-col gap-0.5 text-xs text-danger">
          {notices.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      )}

      {(value.length > 0 || reading.length > 0) && (
        <div className="flex flex-col gap-2">
          <div aria-hidden className={`${ROW_GRID} text-[11px] text-fg-subtle`}>
            <span>File</span>
            <span>Path in sandbox</span>
            <span>Content type</span>
          </div>
          <ul aria-label="Sandbox files" className="flex flex-col gap-2">
            {value.map((file, i) => (
              <SandboxFileRow
                // Rows hold no state of their own, and an index key keeps focus on the remove
                // button position after a removal.
                key={i}
                file={file}
                domId={`${id}-${i}`}
                problems={problems[i] ?? { other: [] }}
                href={downloadHref?.(file, i) ?? null}
                onEdit={(patch) => emit(value.map((f, j) => (j === i ? { ...f, ...patch } : f)))}
                onRemove={() => removeAt(i)}
              />
            ))}
            {reading.map((r) => (
              <ReadingRow key={r.id} reading={r} />
            ))}
          </ul>
        </div>
      )}
      <p aria-live="polite" className="sr-only">
        {reading.length ? `Reading ${reading.length} file${reading.length === 1 ? "" : "s"}…` : ""}
      </p>

      <div className="flex flex-wrap items-center gap-2">
        <Button ref={chooseRef} size="sm" onClick={() => inputRef.current?.click()}>
          <FolderOpen size={14} aria-hidden />
          Choose files
        </Button>
        {/* Fixed widths: a Meter sizes to its content, which would run its label into its value. */}
        <div className="ml-auto flex gap-4">
          <div className="w-36">
            <Meter
              label="Files"
              value={count}
              max={SANDBOX_FILES_MAX}
              display={`${count} / ${SANDBOX_FILES_MAX}`}
            />
          </div>
          <div className="w-52">
            <Meter
              label="New content (base64)"
              value={total}
              max={SANDBOX_FILES_MAX_BASE64}
              display={`${formatBytes(total)} / ${MAX_LABEL}`}
            />
          </div>
        </div>
      </div>
      <FieldError message={formError} />
    </div>
  );
}

/** A file still being read, in place of its row. */
function ReadingRow({ reading }: { reading: Reading }) {
  return (
    <li className={`${ROW_GRID} items-center text-fg-muted`}>
      <span className="truncate text-[13px]">{reading.name}</span>
      <span className="flex items-center gap-1.5 text-xs">
        <LoaderCircle size={13} aria-hidden className="animate-spin" />
        Reading…
      </span>
      <span className="text-[11px]">{formatBytes(reading.size)}</span>
    </li>
  );
}
