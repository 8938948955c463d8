"use client";

import dynamic from "next/dynamic";
import { useRef, useState, type KeyboardEvent } from "react";
import type { UseFormRegisterReturn } from "react-hook-form";

import { describedBy, FieldError } from "@/components/ui/field";
import { Textarea } from "@/components/ui/input";
import { cn } from "@/lib/cn";
import { SKILL_CONTENT_MAX } from "@/lib/schemas/skill";

const loadPreview = () => import("./markdown-preview").then((m) => m.MarkdownPreview);

const MarkdownPreview = dynamic(loadPreview, {
  ssr: false,
  loading: () => <p className="text-xs text-fg-muted">Loading preview…</p>,
});

type Tab = "write" | "preview";
const TABS: { id: Tab; label: string }[] = [
  { id: "write", label: "Write" },
  { id: "preview", label: "Preview" },
];

function formatSize(chars: number): string {
  return `${(chars / 1024).toFixed(1)} KB`;
}

/**
 * The markdown editor of a skill form: a monospace textarea with a rendered preview tab.
 * The textarea stays mounted while previewing so its undo history survives a tab switch.
 */
export function SkillEditor({
  id,
  label = "Content",
  value,
  error,
  field,
  submitHint = "save",
}: {
  id: string;
  label?: string;
  /** The field's current text, for the preview and the size count. */
  value: string;
  error?: string;
  field: UseFormRegisterReturn;
  submitHint?: string;
}) {
  const [tab, setTab] = useState<Tab>("write");
  const tabRefs = useRef<Record<Tab, HTMLButtonElement | null>>({ write: null, preview: null });
  const over = value.length > SKILL_CONTENT_MAX;

  const select = (next: Tab) => {
    setTab(next);
    tabRefs.current[next]?.focus();
  };

  const onTabKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = TABS.findIndex((t) => t.id === tab);
    const move: Record<string, number> = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      Home: 0,
      End: TABS.length - 1,
    };
    const target = move[event.key];
    if (target === undefined) return;
    event.preventDefault();
    select(TABS[(target + TABS.length) % TABS.length]!.id);
  };

  const onTextareaKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) {
      event.preventDefault();
      event.currentTarget.form?.requestSubmit();
    }
  };

  return (
    <div className="flex flex-col gap-1.5">
      <div className="flex items-end justify-between gap-2">
        <label htmlFor={id} className="text-xs font-medium text-fg">
          {label}
        </label>
        <div
          role="tablist"
          aria-label={`${label} view`}
          className="flex gap-0.5 rounded-md bg-bg-muted p-0.5"
        >
          {TABS.map((t) => (
            <button
              key={t.id}
              ref={(el) => {
                tabRefs.current[t.id] = el;
              }}
              type="button"
              role="tab"
              id={`${id}-tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls={`${id}-panel-${t.id}`}
              tabIndex={tab === t.id ? 0 : -1}
              onClick={() => setTab(t.id)}
              onKeyDown={onTabKeyDown}
              // Fetch the preview chunk as the pointer heads for the tab, so it is ready on click.
              onPointerEnter={t.id === "preview" ? () => void loadPreview() : undefined}
              className={cn(
                "h-6 rounded px-2 text-xs font-medium",
                tab === t.id ? "bg-bg text-fg shadow-sm" : "text-fg-muted hover:text-fg",
              )}
            >
              {t.label}
            </button>
          ))}
        </div>
      </div>

      <div
        role="tabpanel"
        id={`${id}-panel-write`}
        aria-labelledby={`${id}-tab-write`}
        hidden={tab !== "write"}
      >
        <Textarea
          {...describedBy(id, error)}
          {...field}
          onKeyDown={onTextareaKeyDown}
          spellCheck
          className="block h-[420px] min-h-40 resize-y font-mono text-[12.5px]"
        />
      </div>
      <div
        role="tabpanel"
        id={`${id}-panel-preview`}
        aria-labelledby={`${id}-tab-preview`}
        hidden={tab !== "preview"}
        tabIndex={0}
        className="min-h-[420px] overflow-auto rounded-md border border-border bg-bg px-4 py-3"
      >
        {tab === "preview" &&
          (value.trim() ? (
            <MarkdownPreview markdown={value} />
          ) : (
            <p className="text-xs text-fg-muted">Nothing to preview yet.</p>
          ))}
      </div>

      <div className="flex items-baseline justify-between gap-3 text-xs text-fg-muted">
        <p id={`${id}-hint`}>
          Markdown. Agents get it as written. <kbd className="font-sans">Ctrl/⌘ Enter</kbd> to {submitHint}.
        </p>
        <span className={cn("shrink-0 tabular-nums", over && "font-medium text-danger")}>
          <span className="sr-only">Size: </span>
          {formatSize(value.length)} / {formatSize(SKILL_CONTENT_MAX).replace(".0", "")}
        </span>
      </div>
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}
