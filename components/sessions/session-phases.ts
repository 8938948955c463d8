import { SESSION_PHASES, type Session } from "@/lib/schemas/session";

export type SessionPhase = (typeof SESSION_PHASES)[number];

export const PHASE_LABELS: Record<SessionPhase, string> = {
  creating_sandbox: "Creating sandbox",
  writing_files: "Writing files",
  cloning_repo: "Cloning repo",
  installing_deps: "Installing dependencies",
  starting_harness: "Starting harness",
  ready: "Ready",
};

export function phaseLabel(phase: string | null): string {
  if (!phase) return "Starting";
  return (PHASE_LABELS as Record<string, string>)[phase] ?? phase.replace(/_/g, " ");
}

/**
 * done: finished (with its time once known) · current: running now · failed: the boot stopped here ·
 * stopped: the session was stopped here · skipped: passed over (no repo, no requirements) ·
 * pending: not reached.
 */
export type PhaseState = "done" | "current" | "failed" | "stopped" | "skipped" | "pending";

export type PhaseStep = { phase: SessionPhase; label: string; state: PhaseState; ms: number | null };

/** Where each boot phase stands, from the session's `phase`, `status` and `timings`. */
export function phaseSteps(session: Pick<Session, "status" | "phase" | "timings">): PhaseStep[] {
  const { status, timings } = session;
  const reached = SESSION_PHASES.indexOf(session.phase as SessionPhase);
  const booted = status === "ready" || session.phase === "ready";
  return SESSION_PHASES.map((phase, i) => {
    const ms = phase === "ready" ? (timings.total ?? null) : (timings[phase] ?? null);
    let state: PhaseState;
    if (booted) state = phase === "ready" || ms !== null ? "done" : "skipped";
    else if (reached === -1) state = status === "failed" && i === 0 ? "failed" : "pending";
    else if (i < reached) state = ms !== null ? "done" : "skipped";
    else if (i > reached) state = "pending";
    else state = status === "creating" ? "current" : status === "failed" ? "failed" : "stopped";
    return { phase, label: PHASE_LABELS[phase], state, ms };
  });
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export const isLive = (session: Pick<Session, "status">) =>
  session.status === "creating" || session.status === "ready";

export const runsWithoutIsolation = (session: Pick<Session, "status" | "sandbox">) =>
  session.sandbox?.isolation === "none";
