"use client";

import { Download, Trash2 } from "lucide-react";
import type { z } from "zod";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { formatBytes } from "@/components/ui/meter";
import {
  sandboxFileInputSchema,
  sandboxPathProblem,
  type sandboxFileKeepSchema,
} from "@/lib/schemas/sandbox-file";

/** A file as the agent form holds it: new bytes in `content`, or a kept stored file by `sha256`. */
export type FormFile = z.input<typeof sandboxFileInputSchema> | z.input<typeof sandboxFileKeepSchema>;

export type FileField = "sandbox_path" | "content" | "size" | "name" | "sha256" | "content_type";

export type FileProblems = { sandbox_path?: string; content_type?: string; other: string[] };

const contentTypeSchema = sandboxFileInputSchema.shape.content_type;

/** Live checks (the shared path and MIME rules, duplicate paths), then the server's messages. */
export function fileProblems(
  files: FormFile[],
  errors: Record<number, Partial<Record<FileField, string>>> | undefined,
): FileProblems[] {
  const firstByPath = new Map<string, number>();
  return files.map((file, i) => {
    const server = errors?.[i] ?? {};
    const pathProblem = sandboxPathProblem(file.sandbox_path);
    const first = firstByPath.get(file.sandbox_path);
    if (first === undefined) firstByPath.set(file.sandbox_path, i);
    const typeCheck = contentTypeSchema.safeParse(file.content_type);
    return {
      sandbox_path: pathProblem
        ? `Path ${pathProblem}`
        : first !== undefined
          ? `${files[first]?.name ?? "Another file"} already uses this path`
          : server.sandbox_path,
      content_type: typeCheck.success ? server.content_type : typeCheck.error.issues[0]?.message,
      other: (["name", "size", "content", "sha256"] as const).flatMap((f) => server[f] ?? []),
    };
  });
}

export const ROW_GRID = "grid grid-cols-[minmax(0,1.3fr)_minmax(0,2fr)_minmax(0,1.2fr)_64px] gap-2";

export function SandboxFileRow({
  file,
  domId,
  problems,
  href,
  onEdit,
  onRemove,
}: {
  file: FormFile;
  domId: string;
  problems: FileProblems;
  href: string | null;
  onEdit: (patch: Partial<Pick<FormFile, "sandbox_path" | "content_type">>) => void;
  onRemove: () => void;
}) {
  const kept = "sha256" in file;
  const pathErrorId = `${domId}-path-error`;
  const typeErrorId = `${domId}-type-error`;

  return (
    <li className={`${ROW_GRID} items-start`}>
      <div className="flex min-h-8 min-w-0 flex-col justify-center">
        <span className="truncate text-[13px]" title={file.name}>
          {file.name}
        </span>
        <span className="flex items-center gap-1.5 text-[11px] text-fg-muted">
          {formatBytes(file.size)}
          {kept && <Badge className="h-4 px-1 text-[10px]">stored</Badge>}
        </span>
      </div>

      <div className="flex min-w-0 flex-col gap-1">
        <Input
          value={file.sandbox_path}
          onChange={(e) => onEdit({ sandbox_path: e.target.value })}
          aria-label={`Sandbox path of ${file.name}`}
          aria-invalid={problems.sandbox_path ? true : undefined}
          aria-describedby={problems.sandbox_path ? pathErrorId : undefined}
          autoComplete="off"
          spellCheck={false}
          className="font-mono text-xs"
        />
        {problems.sandbox_path && (
          <p id={pathErrorId} role="alert" className="text-xs text-danger">
            {problems.sandbox_path}
          </p>
        )}
      </div>

      <div className="flex min-w-0 flex-col gap-1">
        <Input
          value={file.content_type ?? ""}
          onChange={(e) => onEdit({ content_type: e.target.value })}
          aria-label={`Content type of ${file.name}`}
          aria-invalid={problems.content_type ? true : undefined}
          aria-describedby={problems.content_type ? typeErrorId : undefined}
          autoComplete="off"
          spellCheck={false}
          className="text-xs"
        />
        {problems.content_type && (
          <p id={typeErrorId} role="alert" className="text-xs text-danger">
            {problems.content_type}
          </p>
        )}
      </div>

      <div className="flex h-8 items-center justify-end gap-0.5">
        {href && (
          <a
            href={href}
            download={file.name}
            aria-label={`Download ${file.name}`}
            title="Download"
            className="grid h-7 w-7 place-items-center rounded-md text-fg-muted hover:bg-bg-muted hover:text-fg"
          >
            <Download size={14} aria-hidden />
          </a>
        )}
        <Button size="icon" variant="ghost" onClick={onRemove} aria-label={`Remove ${file.name}`}>
          <Trash2 size={14} aria-hidden />
        </Button>
      </div>

      {problems.other.length > 0 && (
        <ul role="alert" className="col-span-4 flex flex-col gap-0.5 text-xs text-danger">
          {problems.other.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      )}
    </li>
  );
}
