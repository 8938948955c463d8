"use client";

import { ChevronRight } from "lucide-react";
import { useId, useState, type ReactNode } from "react";

import { cn } from "@/lib/cn";

/**
 * A collapsible block: a button with aria-expanded that shows or hides its panel. `summary` is the
 * button's content (and accessible name), or a function of whether the panel is open.
 */
export function Disclosure({
  summary,
  children,
  defaultOpen = false,
  className,
  buttonClassName,
  panelClassName,
}: {
  summary: ReactNode | ((open: boolean) => ReactNode);
  children: ReactNode;
  defaultOpen?: boolean;
  className?: string;
  buttonClassName?: string;
  panelClassName?: string;
}) {
  const id = useId();
  const [open, setOpen] = useState(defaultOpen);
  return (
    <div className={cn("min-w-0", className)}>
      <button
        type="button"
        aria-expanded={open}
        aria-controls={`${id}-panel`}
        onClick={() => setOpen((o) => !o)}
        className={cn(
          "flex w-full min-w-0 items-center gap-2 text-left focus-visible:outline-offset-[-2px]",
          buttonClassName,
        )}
      >
        <ChevronRight
          size={13}
          aria-hidden
          className={cn("shrink-0 text-fg-subtle transition-transform", open && "rotate-90")}
        />
        {typeof summary === "function" ? summary(open) : summary}
      </button>
      <div id={`${id}-panel`} hidden={!open} className={panelClassName}>
        {open && children}
      </div>
    </div>
  );
}
