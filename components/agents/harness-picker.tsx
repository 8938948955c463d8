"use client";

import { useId, type ReactNode } from "react";

import { Badge } from "@/components/ui/badge";
import { HARNESS_IDS, HARNESSES, type HarnessId } from "@/lib/schemas/harness";

export type HarnessPickerProps = {
  value: HarnessId;
  onChange: (value: HarnessId) => void;
  /** Name shared by the radio inputs. */
  name: string;
};

const KIND_NOTES: Record<"api" | "tui", ReactNode> = {
  api: "Sessions open as a chat thread; programs send messages over REST.",
  tui: (
    <>
      Sessions open as a live terminal in the browser or with{" "}
      <code className="rounded bg-bg-muted px-1 font-mono text-[11px]">hangar attach</code>.
    </>
  ),
};

/** Native radios under the cards, so arrow keys, Tab and form semantics come from the browser. */
export function HarnessPicker({ value, onChange, name }: HarnessPickerProps) {
  const id = useId();
  const noteId = `${id}-note`;
  const current = HARNESSES[value];

  return (
    <div className="flex flex-col gap-2">
      <div
        role="radiogroup"
        aria-label="Harness"
        aria-describedby={noteId}
        className="grid gap-2 sm:grid-cols-2"
      >
        {HARNESS_IDS.map((harnessId) => {
          const harness = HARNESSES[harnessId];
          const inputId = `${id}-${harnessId}`;
          return (
            <label
              key={harnessId}
              htmlFor={inputId}
              className="flex cursor-pointer flex-col gap-1 rounded-md border border-border bg-bg p-3 transition-colors hover:bg-bg-subtle has-checked:border-accent has-checked:bg-accent-subtle has-focus-visible:outline-2 has-focus-visible:outline-offset-1 has-focus-visible:outline-ring"
            >
              <input
                id={inputId}
                type="radio"
                name={name}
                value={harnessId}
                checked={value === harnessId}
                onChange={() => onChange(harnessId)}
                aria-labelledby={`${inputId}-label`}
                aria-describedby={`${inputId}-desc`}
                className="sr-only"
              />
              <span className="flex items-center justify-between gap-2">
                <span id={`${inputId}-label`} className="text-[13px] font-medium text-fg">
                  {harness.label}
                </span>
                <Badge tone={harness.kind === "tui" ? "warning" : "accent"}>
                  {harness.kind.toUpperCase()}
                </Badge>
              </span>
              <span id={`${inputId}-desc`} className="text-xs text-fg-muted">
                {harness.description}
              </span>
            </label>
          );
        })}
      </div>
      <p id={noteId} aria-live="polite" className="text-xs text-fg-muted">
        <span className="font-medium text-fg">{current.kind.toUpperCase()}:</span> {KIND_NOTES[current.kind]}
      </p>
    </div>
  );
}
