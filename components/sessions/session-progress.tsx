import { Circle, CircleCheck, CircleDashed, CircleStop, CircleX, LoaderCircle } from "lucide-react";

import { cn } from "@/lib/cn";
import type { Session } from "@/lib/schemas/session";

import { formatMs, phaseSteps, type PhaseState, type PhaseStep } from "./session-phases";

const STATE_TEXT: Record<PhaseState, string> = {
  done: "done",
  current: "in progress",
  failed: "failed",
  stopped: "stopped",
  skipped: "skipped",
  pending: "not reached",
};

function StepIcon({ state }: { state: PhaseState }) {
  const props = { size: 16, "aria-hidden": true, className: "shrink-0" } as const;
  switch (state) {
    case "done":
      return <CircleCheck {...props} className="shrink-0 text-success" />;
    case "current":
      return <LoaderCircle {...props} className="shrink-0 text-accent motion-safe:animate-spin" />;
    case "failed":
      return <CircleX {...props} className="shrink-0 text-danger" />;
    case "stopped":
      return <CircleStop {...props} className="shrink-0 text-fg-muted" />;
    case "skipped":
      return <CircleDashed {...props} className="shrink-0 text-fg-subtle" />;
    case "pending":
      return <Circle {...props} className="shrink-0 text-border-strong" />;
  }
}

function stepNote(step: PhaseStep): string {
  if (step.ms !== null && (step.state === "done" || step.phase === "ready"))
    return step.phase === "ready" ? `total ${formatMs(step.ms)}` : formatMs(step.ms);
  if (step.state === "current") return "running…";
  if (step.state === "pending") return "";
  return STATE_TEXT[step.state];
}

/** The boot phases in order, each with its state and, once finished, how long it took. */
export function SessionProgress({
  session,
  className,
}: {
  session: Pick<Session, "status" | "phase" | "timings">;
  className?: string;
}) {
  const steps = phaseSteps(session);
  return (
    <ol aria-label="Boot progress" className={cn("grid grid-cols-3 gap-y-3 sm:grid-cols-6", className)}>
      {steps.map((step, i) => {
        const note = stepNote(step);
        return (
          <li
            key={step.phase}
            aria-current={step.state === "current" ? "step" : undefined}
            data-phase={step.phase}
            data-state={step.state}
            className="flex min-w-0 flex-col gap-1"
          >
            <div className="flex items-center gap-1.5">
              <StepIcon state={step.state} />
              {i < steps.length - 1 && (
                <span
                  aria-hidden
                  className={cn(
                    "mr-1.5 h-px flex-1",
                    step.state === "done" || step.state === "skipped" ? "bg-success/50" : "bg-border-strong",
                  )}
                />
              )}
            </div>
            <span
              className={cn(
                "pr-2 text-xs leading-tight font-medium",
                step.state === "pending" || step.state === "skipped" ? "text-fg-muted" : "text-fg",
                step.state === "failed" && "text-danger",
              )}
            >
              {step.label}
              <span className="sr-only">: {STATE_TEXT[step.state]}</span>
            </span>
            <span
              aria-hidden={!note || note === STATE_TEXT[step.state]}
              className={cn(
                "h-4 font-mono text-[11px] text-fg-muted tabular-nums",
                step.state === "failed" && "text-danger",
              )}
            >
              {note}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
