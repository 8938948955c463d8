import { LoaderCircle } from "lucide-react";

import { Badge } from "@/components/ui/badge";
import type { Session } from "@/lib/schemas/session";

import { phaseLabel } from "./session-phases";

/** The status as a badge; while booting it names the current phase, with a spinner. */
export function SessionStatusBadge({ session }: { session: Pick<Session, "status" | "phase"> }) {
  switch (session.status) {
    case "creating":
      return (
        <Badge tone="accent" className="gap-1">
          <LoaderCircle size={11} aria-hidden className="motion-safe:animate-spin" />
          <span className="sr-only">Creating: </span>
          {phaseLabel(session.phase)}
        </Badge>
      );
    case "ready":
      return (
        <Badge tone="success" className="gap-1.5">
          <span aria-hidden className="h-1.5 w-1.5 rounded-full bg-current" />
          Ready
        </Badge>
      );
    case "failed":
      return <Badge tone="danger">Failed</Badge>;
    case "dead":
      return <Badge>Dead</Badge>;
  }
}
