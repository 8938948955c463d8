import { Check, LoaderCircle, RotateCw } from "lucide-react";
import type { ReactNode } from "react";

import { Button } from "@/components/ui/button";

import type { Link } from "./terminal-connection";

/** The connection's state in the terminal's toolbar, read out as a status. */
export function LinkState({
  link,
  now,
  reattached,
  endedReason,
  onRetry,
}: {
  link: Link;
  now: number;
  reattached: boolean;
  endedReason: string | null;
  onRetry: () => void;
}) {
  let body: ReactNode;
  if (link.state === "live")
    body = reattached ? (
      <span className="flex items-center gap-1.5 text-success">
        <Check size={12} aria-hidden />
        Reattached — the session kept running
      </span>
    ) : (
      <span className="flex items-center gap-1.5 text-success">
        <span aria-hidden className="h-1.5 w-1.5 rounded-full bg-current" />
        Live
      </span>
    );
  else if (link.state === "connecting")
    body = (
      <span className="flex items-center gap-1.5 text-fg-muted">
        <LoaderCircle size={11} aria-hidden className="motion-safe:animate-spin" />
        Connecting…
      </span>
    );
  else if (link.state === "reconnecting") {
    const seconds = link.at === null ? 0 : Math.max(0, Math.ceil((link.at - now) / 1000));
    body = (
      <span className="flex min-w-0 items-center gap-1.5 text-warning">
        <LoaderCircle size={11} aria-hidden className="shrink-0 motion-safe:animate-spin" />
        <span className="truncate">
          {seconds > 0 ? `Connection lost. Reconnecting in ${seconds} s` : "Reconnecting…"}
          <span className="text-fg-muted"> · attempt {link.attempt}</span>
        </span>
        {seconds > 0 && (
          <Button size="sm" variant="ghost" onClick={onRetry} className="h-6 px-1.5 text-[11px]">
            <RotateCw size={11} aria-hidden />
            Retry now
          </Button>
        )}
      </span>
    );
  } else
    body = (
      <span className="flex min-w-0 items-center gap-1.5 text-fg-muted">
        <span aria-hidden className="h-1.5 w-1.5 shrink-0 rounded-full bg-fg-subtle" />
        <span className="truncate" title={endedReason ?? undefined}>
          Session ended{endedReason ? `: ${endedReason}` : ""}
        </span>
      </span>
    );
  return (
    <span role="status" aria-label="Terminal connection" className="min-w-0 text-[11px] font-medium">
      {body}
    </span>
  );
}
