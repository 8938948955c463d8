import type { ReactNode } from "react";

import { cn } from "@/lib/cn";

type Tone = "neutral" | "accent" | "warning" | "success" | "danger";

const TONES: Record<Tone, string> = {
  neutral: "bg-bg-muted text-fg-muted border-border",
  accent: "bg-accent-subtle text-accent border-transparent",
  warning: "bg-warning-subtle text-warning border-transparent",
  success: "bg-success-subtle text-success border-transparent",
  danger: "bg-danger-subtle text-danger border-transparent",
};

export function Badge({
  tone = "neutral",
  children,
  className,
}: {
  tone?: Tone;
  children: ReactNode;
  className?: string;
}) {
  return (
    <span
      className={cn(
        "inline-flex h-5 items-center rounded border px-1.5 text-[11px] font-medium whitespace-nowrap",
        TONES[tone],
        className,
      )}
    >
      {children}
    </span>
  );
}
