import { ChevronLeft, ChevronRight } from "lucide-react";

import { Button } from "@/components/ui/button";
import { cn } from "@/lib/cn";

/**
 * Previous / Next under a list, with "first–last of total" read out when it changes. Every list
 * page uses this one; `offset` and `shown` describe the page on screen.
 */
export function Pagination({
  offset,
  shown,
  total,
  loading = false,
  onPrevious,
  onNext,
  className,
}: {
  offset: number;
  shown: number;
  total: number;
  loading?: boolean;
  onPrevious: () => void;
  onNext: () => void;
  className?: string;
}) {
  return (
    <nav aria-label="Pagination" className={cn("flex items-center justify-between gap-3", className)}>
      <p className="text-xs text-fg-muted tabular-nums" aria-live="polite">
        {loading ? "\u00a0" : shown === 0 ? `0 of ${total}` : `${offset + 1}–${offset + shown} of ${total}`}
      </p>
      <div className="flex gap-2">
        <Button size="sm" onClick={onPrevious} disabled={loading || offset === 0}>
          <ChevronLeft size={14} aria-hidden />
          Previous
        </Button>
        <Button size="sm" onClick={onNext} disabled={loading || offset + shown >= total}>
          Next
          <ChevronRight size={14} aria-hidden />
        </Button>
      </div>
    </nav>
  );
}
