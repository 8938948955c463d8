import { cn } from "@/lib/cn";

/** A labelled usage bar (files, bytes, keys): turns amber near the limit and red past it. */
export function Meter({
  label,
  value,
  max,
  display,
}: {
  label: string;
  value: number;
  max: number;
  display: string;
}) {
  const ratio = Math.min(1, value / max);
  const tone = value > max ? "bg-danger" : ratio > 0.85 ? "bg-warning" : "bg-accent";
  return (
    <div className="flex min-w-32 flex-col gap-1">
      <div className="flex justify-between text-[11px] text-fg-muted">
        <span>{label}</span>
        <span className={cn(value > max && "text-danger")}>{display}</span>
      </div>
      <div
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max}
        aria-valuenow={value}
        aria-valuetext={display}
        className="h-1 overflow-hidden rounded bg-bg-muted"
      >
        <div className={cn("h-full rounded", tone)} style={{ width: `${ratio * 100}%` }} />
      </div>
    </div>
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}
