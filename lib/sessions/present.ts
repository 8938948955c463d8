import type { SessionRow } from "@/db/queries/sessions";
import { mintTtyToken, ttyPath } from "@/lib/pty/tokens";
import { runtime } from "@/lib/runtime";
import type { Session, SessionStatus } from "@/lib/schemas/session";

/** A fresh terminal token for live TUI sessions (short-lived; minting is an HMAC of the row's generation). */
function ttyAccess(row: SessionRow): Pick<Session, "tty_token" | "tty_url"> {
  if (!row.supportsTui || (row.status !== "ready" && row.status !== "creating")) {
    return { tty_token: null, tty_url: null };
  }
  const { token } = mintTtyToken(row);
  return { tty_token: token, tty_url: `${ttyPath(row.id)}?token=${token}` };
}

/** A session row as the API shows it, with a terminal token and the idle timeout. */
export function toApiSession(row: SessionRow): Session {
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
    ...ttyAccess(row),
    sandbox: row.sandbox,
    timings: row.timings as Record<string, number>,
    idle_timeout_ms: runtime().config.HANGAR_IDLE_TIMEOUT_MINUTES * 60_000,
    created_at: row.createdAt.toISOString(),
    last_seen_at: row.lastSeenAt.toISOString(),
    ready_at: row.readyAt ? row.readyAt.toISOString() : null,
    stopped_at: row.stoppedAt ? row.stoppedAt.toISOString() : null,
  };
}

/** A page of session rows as the API lists them. */
export function toApiSessionPage<P extends { data: SessionRow[] }>(page: P) {
  return { ...page, data: page.data.map(toApiSession) };
}
