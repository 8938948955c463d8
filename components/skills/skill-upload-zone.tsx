"use client";

import { CircleCheck, CircleX, FileText, LoaderCircle, Upload, X } from "lucide-react";
import Link from "next/link";
import { useEffect, useRef, useState, type DragEvent, type ReactNode } from "react";

import { Button } from "@/components/ui/button";
import { ApiClientError } from "@/lib/api-client/fetcher";
import { useCreateSkill } from "@/lib/api-client/skills";
import { cn } from "@/lib/cn";
import { SKILL_CONTENT_MAX } from "@/lib/schemas/skill";
import { parseSkillFile } from "@/lib/skill-file";

export type UploadResult = { key: number; fileName: string } & (
  | { status: "pending" }
  | { status: "created"; skill: { id: string; name: string } }
  | { status: "failed"; message: string }
);

const MARKDOWN = /\.(md|markdown)$/i;
export const MARKDOWN_ACCEPT = ".md,.markdown,text/markdown";

export function errorMessage(err: unknown): string {
  if (!(err instanceof ApiClientError)) return "Could not reach Hangar.";
  if (err.issues.length === 0) return err.message;
  return err.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

/** Turns dropped or picked files into skills, one request at a time, keeping a result per file. */
export function useSkillUpload() {
  const create = useCreateSkill();
  const [results, setResults] = useState<UploadResult[]>([]);
  const nextKey = useRef(0);

  const createOne = async (file: File): Promise<UploadResult> => {
    const base = { key: 0, fileName: file.name };
    if (!MARKDOWN.test(file.name))
      return { ...base, status: "failed", message: "Not a Markdown (.md) file." };
    // Content is capped in characters; a file several times that in bytes cannot fit, so skip reading it.
    if (file.size > SKILL_CONTENT_MAX * 4)
      return { ...base, status: "failed", message: "Larger than 256 KB." };
    try {
      const parsed = parseSkillFile(await file.text(), file.name);
      if (!parsed.name) {
        return { ...base, status: "failed", message: "No name: add `name:` frontmatter or a # heading." };
      }
      const skill = await create.mutateAsync(parsed);
      return { ...base, status: "created", skill: { id: skill.id, name: skill.name } };
    } catch (err) {
      return { ...base, status: "failed", message: errorMessage(err) };
    }
  };

  const upload = async (files: File[]) => {
    if (files.length === 0) return;
    const batch = files.map((file) => ({ file, key: nextKey.current++ }));
    setResults((prev) => [
      ...prev,
      ...batch.map(({ file, key }) => ({ key, fileName: file.name, status: "pending" as const })),
    ]);
    // Sequential, so results fill in order and the server is not flooded by a folder's worth of files.
    for (const { file, key } of batch) {
      const result = { ...(await createOne(file)), key };
      setResults((prev) => prev.map((r) => (r.key === key ? result : r)));
    }
  };

  return { results, upload, clear: () => setResults((prev) => prev.filter((r) => r.status === "pending")) };
}

/** Accepts SKILL.md files dropped anywhere over its children, with an overlay while dragging. */
export function SkillDropZone({
  onFiles,
  children,
  className,
}: {
  onFiles: (files: File[]) => void;
  children: ReactNode;
  className?: string;
}) {
  const [dragging, setDragging] = useState(false);
  // dragenter/dragleave fire for every child crossed; counting them tells when the pointer truly left.
  const depth = useRef(0);
  const hasFiles = (e: DragEvent) => e.dataTransfer.types.includes("Files");

  // A file dropped just outside the zone would make the browser open it and leave the page.
  useEffect(() => {
    const block = (e: globalThis.DragEvent) => {
      if (e.dataTransfer?.types.includes("Files")) e.preventDefault();
    };
    window.addEventListener("dragover", block);
    window.addEventListener("drop", block);
    return () => {
      window.removeEventListener("dragover", block);
      window.removeEventListener("drop", block);
    };
  }, []);

  return (
    <div
      className={cn("relative", className)}
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current += 1;
        setDragging(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
      }}
      onDragLeave={(e) => {
        if (!hasFiles(e)) return;
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setDragging(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current = 0;
        setDragging(false);
        onFiles(Array.from(e.dataTransfer.files));
      }}
    >
      {children}
      {dragging && (
        <div
          aria-hidden
          className="pointer-events-none absolute inset-2 z-10 rounded-lg border-2 border-dashed border-accent bg-accent-subtle/95"
        >
          {/* Sticky, so the message stays in view over a long, scrolled list. */}
          <div className="sticky top-[35vh] mx-auto mt-[30vh] flex w-fit flex-col items-center gap-1 rounded-lg bg-bg px-4 py-3 text-accent shadow-sm">
            <Upload size={20} />
            <p className="text-[13px] font-medium">Drop SKILL.md files to add them to the library</p>
          </div>
        </div>
      )}
    </div>
  );
}

/** A real button that opens the file picker; the keyboard route to what the drop zone does. */
export function UploadSkillButton({
  onFiles,
  variant = "secondary",
}: {
  onFiles: (files: File[]) => void;
  variant?: "secondary" | "ghost";
}) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <Button variant={variant} onClick={() => input.current?.click()}>
        <Upload size={14} aria-hidden />
        Upload SKILL.md
      </Button>
      <input
        ref={input}
        type="file"
        accept={MARKDOWN_ACCEPT}
        multiple
        hidden
        onChange={(e) => {
          onFiles(Array.from(e.currentTarget.files ?? []));
          // Cleared so choosing the same file again (after fixing it) fires another change.
          e.currentTarget.value = "";
        }}
      />
    </>
  );
}

export function UploadResults({ results, onClear }: { results: UploadResult[]; onClear: () => void }) {
  if (results.length === 0) return null;
  const pending = results.some((r) => r.status === "pending");
  return (
    <section aria-labelledby="upload-results-title" className="rounded-md border border-border bg-bg-subtle">
      <div className="flex h-9 items-center justify-between border-b border-border pr-1.5 pl-3">
        <h2 id="upload-results-title" className="text-xs font-medium">
          Uploads
        </h2>
        <Button variant="ghost" size="sm" onClick={onClear} disabled={pending}>
          <X size={13} aria-hidden />
          Clear
        </Button>
      </div>
      <ul aria-live="polite" className="max-h-56 divide-y divide-border overflow-y-auto">
        {results.map((r) => (
          <li key={r.key} className="flex min-h-9 items-start gap-2 px-3 py-2 text-xs">
            <ResultIcon status={r.status} />
            <FileText size={14} aria-hidden className="mt-px shrink-0 text-fg-subtle" />
            <span className="max-w-56 shrink-0 truncate font-mono text-fg" title={r.fileName}>
              {r.fileName}
            </span>
            <span className="min-w-0 flex-1">
              {r.status === "pending" && <span className="text-fg-muted">Creating…</span>}
              {r.status === "created" && (
                <span className="text-fg-muted">
                  Created{" "}
                  <Link href={`/skills/${r.skill.id}`} className="font-medium text-accent hover:underline">
                    {r.skill.name}
                  </Link>
                </span>
              )}
              {r.status === "failed" && <span className="break-words text-danger">{r.message}</span>}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ResultIcon({ status }: { status: UploadResult["status"] }) {
  if (status === "pending")
    return <LoaderCircle size={14} aria-hidden className="mt-px shrink-0 animate-spin text-fg-subtle" />;
  if (status === "created")
    return <CircleCheck size={14} aria-hidden className="mt-px shrink-0 text-success" />;
  return <CircleX size={14} aria-hidden className="mt-px shrink-0 text-danger" />;
}
