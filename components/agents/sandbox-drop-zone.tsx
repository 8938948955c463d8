"use client";

import { Upload } from "lucide-react";
import { useState, type RefObject } from "react";

import { cn } from "@/lib/cn";

/** FileReader encodes off the main thread; only the data-URL prefix is cut here. */
export function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error("read failed"));
    reader.readAsDataURL(file);
  });
}

/** The drop target and the hidden file input it opens; the caller keeps `inputRef` for its own button. */
export function SandboxDropZone({
  inputRef,
  onFiles,
  hint,
}: {
  inputRef: RefObject<HTMLInputElement | null>;
  onFiles: (files: File[]) => void;
  hint: string;
}) {
  const [dragging, setDragging] = useState(false);
  const choose = () => inputRef.current?.click();

  return (
    <>
      <input
        ref={inputRef}
        type="file"
        multiple
        hidden
        tabIndex={-1}
        aria-hidden
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          // Cleared so choosing the same file again still fires a change.
          e.target.value = "";
          onFiles(files);
        }}
      />
      <div
        role="button"
        tabIndex={0}
        aria-label="Add files: drop them here or press Enter to choose"
        onClick={choose}
        onKeyDown={(e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            choose();
          }
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = "copy";
          setDragging(true);
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          onFiles([...e.dataTransfer.files]);
        }}
        className={cn(
          "flex cursor-pointer flex-col items-center gap-1 rounded-md border border-dashed px-4 py-5 text-center text-xs transition-colors",
          dragging
            ? "border-accent bg-accent-subtle text-accent"
            : "border-border-strong bg-bg-subtle text-fg-muted hover:bg-bg-muted",
        )}
      >
        <Upload size={16} aria-hidden />
        <span>Drop files here, or click to choose</span>
        <span className="text-[11px] text-fg-subtle">{hint}</span>
      </div>
    </>
  );
}
