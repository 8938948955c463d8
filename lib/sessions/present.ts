import type { SessionRow } from "@/db/queries/sessions";
import { mintTtyToken, ttyPath, type TtyHolder } from "@/lib/pty/tokens";
import { runtime } from "@/lib/runtime";
import type { Session, SessionStatus } from "@/lib/schemas/session";

/**
 * A fresh terminal token for live TUI sessions, for the caller (`holder`): short-lived, read-only for
 * a viewer, and dead with the caller's credential. None without a caller.
 */
function ttyAccess(row: SessionRow, holder: TtyHolder | null): Pick<Session, "tty_token" | "tty_url"> {
  if (!holder || !row.supportsTui || (row.status !== "ready" && row.status !== "creating")) {
    return { tty_token: null, tty_url: null };
  }
  const { token } = mintTtyToken(row, holder);
  return { tty_token: token, tty_url: `${ttyPath(row.id)}?token=${token}` };
}

/** A session row as the API shows it, with a terminal token for `holder` and the idle timeout. */
export function toApiSession(row: SessionRow, holder: TtyHolder | null): Session {
  return {
    id: row.id,
    agent_id: row.agentId,
    title: row.title,
    status: row.status as SessionStatus,
    phase: row.phase,
    phase_detail: row.phaseDetail,
    failure_reason: row.failureReason,
    harness_id: row.config.harnessId,
    model: row.config.model,
    supports_tui: row.supportsTui,
    ...ttyAccess(row, holder),
    sandbox: row.sandbox,
    spawn_mode: row.spawnMode,
    timings: row.timings as Record<string, number>,
    idle_timeout_ms: runtime().config.HANGAR_IDLE_TIMEOUT_MINUTES * 60_000,
    created_at: row.createdAt.toISOString(),
    last_seen_at: row.lastSeenAt.toISOString(),
    ready_at: row.readyAt ? row.readyAt.toISOString() : null,
    stopped_at: row.stoppedAt ? row.stoppedAt.toISOString() : null,
  };
}

/** A page of session rows as the API lists them. */
export function toApiSessionPage<P extends { data: SessionRow[] }>(page: P, holder: TtyHolder | null) {
  return { ...page, data: page.data.map((row) => toApiSession(row, holder)) };
}
