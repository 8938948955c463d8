import { ShieldAlert } from "lucide-react";

import { cn } from "@/lib/cn";

export const NO_ISOLATION_WARNING =
  "This session runs without isolation (process driver): the agent can read and change this machine.";

/** The full warning, for the session viewer and above a list that holds such a session. */
export function IsolationWarning({ className, children }: { className?: string; children?: string }) {
  return (
    <div
      role="note"
      aria-label="No isolation"
      className={cn(
        "flex items-start gap-2.5 rounded-lg border border-danger/40 bg-danger-subtle px-3 py-2.5 text-[13px] text-danger",
        className,
      )}
    >
      <ShieldAlert size={16} aria-hidden className="mt-px shrink-0" />
      <p>
        <strong className="font-semibold">{children ?? NO_ISOLATION_WARNING}</strong>{" "}
        <span className="text-fg-muted">
          Install bubblewrap and socat on the host for the isolated <code className="font-mono">local</code>{" "}
          driver.
        </span>
      </p>
    </div>
  );
}

/** A compact marker for a table row; the full sentence is its accessible name and tooltip. */
export function IsolationMarker() {
  return (
    <span
      role="img"
      aria-label={NO_ISOLATION_WARNING}
      title={NO_ISOLATION_WARNING}
      className="inline-flex h-5 items-center gap-1 rounded border border-danger/40 bg-danger-subtle px-1.5 text-[11px] font-semibold whitespace-nowrap text-danger"
    >
      <ShieldAlert size={12} aria-hidden />
      No isolation
    </span>
  );
}
