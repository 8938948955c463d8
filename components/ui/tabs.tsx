"use client";

import { useId, useRef, type KeyboardEvent, type ReactNode } from "react";

import { cn } from "@/lib/cn";

export type TabItem<K extends string> = { key: K; label: ReactNode; panel: ReactNode };

/**
 * WAI-ARIA tabs: one tab stop for the list, arrow keys / Home / End move between tabs (and select
 * them), the panel is labelled by its tab. `aside` sits at the end of the tab bar.
 */
export function Tabs<K extends string>({
  label,
  tabs,
  value,
  onChange,
  aside,
  className,
}: {
  label: string;
  tabs: TabItem<K>[];
  value: K;
  onChange: (key: K) => void;
  aside?: ReactNode;
  className?: string;
}) {
  const id = useId();
  const refs = useRef(new Map<K, HTMLButtonElement>());
  const active = tabs.find((t) => t.key === value) ?? tabs[0];

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const index = tabs.findIndex((t) => t.key === value);
    const target =
      e.key === "ArrowRight"
        ? tabs[(index + 1) % tabs.length]
        : e.key === "ArrowLeft"
          ? tabs[(index - 1 + tabs.length) % tabs.length]
          : e.key === "Home"
            ? tabs[0]
            : e.key === "End"
              ? tabs.at(-1)
              : undefined;
    if (!target) return;
    e.preventDefault();
    onChange(target.key);
    refs.current.get(target.key)?.focus();
  }

  return (
    <section className={cn("flex min-w-0 flex-col rounded-lg border border-border", className)}>
      <div className="flex h-9 items-center justify-between gap-2 border-b border-border bg-bg-subtle pr-2">
        <div role="tablist" aria-label={label} onKeyDown={onKeyDown} className="flex h-full">
          {tabs.map((tab) => {
            const selected = tab.key === active?.key;
            return (
              <button
                key={tab.key}
                ref={(el) => {
                  if (el) refs.current.set(tab.key, el);
                  else refs.current.delete(tab.key);
                }}
                type="button"
                role="tab"
                id={`${id}-tab-${tab.key}`}
                aria-selected={selected}
                aria-controls={selected ? `${id}-panel-${tab.key}` : undefined}
                tabIndex={selected ? 0 : -1}
                onClick={() => onChange(tab.key)}
                className={cn(
                  "-mb-px inline-flex h-full items-center gap-1.5 border-b-2 px-3 text-xs font-medium first:rounded-tl-lg focus-visible:outline-offset-[-2px]",
                  selected ? "border-accent text-fg" : "border-transparent text-fg-muted hover:text-fg",
                )}
              >
                {tab.label}
              </button>
            );
          })}
        </div>
        {aside && <div className="flex items-center gap-1">{aside}</div>}
      </div>
      {active && (
        <div
          role="tabpanel"
          id={`${id}-panel-${active.key}`}
          aria-labelledby={`${id}-tab-${active.key}`}
          className="min-w-0"
        >
          {active.panel}
        </div>
      )}
    </section>
  );
}
