/*
 * Bounds on everything a sandbox can push at the host: the bytes Hangar buffers or streams for it,
 * and the requests it may have in flight. Whatever runs in a sandbox may be hostile, so no buffer
 * fed from one grows without limit and no sandbox can take every slot of a shared resource. Each
 * limit sits well above what a real harness needs; the comment says what that is.
 */

const MiB = 1024 * 1024;

/**
 * A request body the per-session model endpoint streams on to the real gateway. Anthropic's
 * Messages API refuses requests over 32 MB (OpenAI's limits are lower), so nothing larger can be a
 * real model call: it is answered 413 before it reaches the gateway.
 */
export const MODEL_UPSTREAM_BODY_MAX = 32 * MiB;

/**
 * Upstream requests one session may have open at once. A harness streams one reply at a time, plus
 * side calls (titles, token counts) and one long-lived GET stream per MCP server: 16 leaves room for
 * all of it, while a sandbox cannot open thousands of upstream connections with the platform's key.
 * Counted per process (each gateway-role replica counts its own).
 */
export const MODEL_UPSTREAM_IN_FLIGHT_PER_SESSION = 16;

/**
 * A request body the built-in test model reads into memory. A long harness conversation is a few
 * MB of JSON (context windows are ~1M tokens at most, about 4 MB of text); 8 MiB leaves room for a
 * few images.
 */
export const BUILTIN_MODEL_BODY_MAX = 8 * MiB;

/**
 * Requests the built-in model works on at once, overall and per session: each may hold a body of up
 * to BUILTIN_MODEL_BODY_MAX in memory, so these bound that memory (32 × 8 MiB) and keep one session
 * from starving the others. A harness has at most a few requests open at a time.
 */
export const BUILTIN_MODEL_IN_FLIGHT = 32;
export const BUILTIN_MODEL_IN_FLIGHT_PER_SESSION = 8;

/** Seconds a 429 for too many requests in flight asks the client to wait before it retries. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * A JSON answer of `opencode serve` (in the sandbox) read into memory: a session's whole message
 * history is the largest one, and opencode truncates tool outputs to tens of KB each.
 */
export const OPENCODE_JSON_MAX = 16 * MiB;

/**
 * One event of opencode's SSE stream, and so the pending part of the stream Hangar buffers. The
 * largest real events are a part update carrying a tool's input or a file's patch; model output is
 * bounded by the model's output tokens (~128k tokens, about 0.5 MB).
 */
export const OPENCODE_SSE_EVENT_MAX = 4 * MiB;

/**
 * One line of the Claude Agent SDK's CLI child on stdout (stream-json): the largest real lines carry
 * a tool result with an image, which Anthropic's API caps at 5 MB each.
 */
export const CLAUDE_SDK_LINE_MAX = 16 * MiB;

/** The tail of the CLI child's stderr kept for error messages. */
export const CLAUDE_SDK_STDERR_TAIL = 8_000;

/**
 * Counts requests in flight, overall and per key (a session), and refuses one over either cap.
 * `admit` returns the release function, or null when the request must be refused (429).
 */
export class InFlightLimit {
  private total = 0;
  private readonly perKey = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerKey: number,
  ) {}

  admit(key: string | null): (() => void) | null {
    const mine = key === null ? 0 : (this.perKey.get(key) ?? 0);
    if (this.total >= this.maxTotal || (key !== null && mine >= this.maxPerKey)) return null;
    this.total++;
    if (key !== null) this.perKey.set(key, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      if (key === null) return;
      const left = (this.perKey.get(key) ?? 1) - 1;
      if (left > 0) this.perKey.set(key, left);
      else this.perKey.delete(key);
    };
  }

  /** Requests in flight now: overall, or for one key. */
  count(key?: string): number {
    return key === undefined ? this.total : (this.perKey.get(key) ?? 0);
  }
}
