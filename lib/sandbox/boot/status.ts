import fs from "node:fs";

/*
 * The bootstrap's status lines, read by the host from the session's run/status.jsonl: a file only the
 * host can name (the sandbox writes it through an fd it was handed, or the Kubernetes log mirror
 * does). Still read as the sandbox's words: without following a link, without blocking on anything
 * but a regular file, off the main thread, a bounded amount per read, lines past a length cap dropped,
 * and every field clipped. The launcher treats what comes out as hints, never as facts.
 */

/** Read per call: a flooding sandbox delays only its own lines. */
export const STATUS_READ_MAX = 64 * 1024;
/** Longer lines are dropped whole. */
export const STATUS_LINE_MAX = 16 * 1024;
/** Text fields (a phase detail, a failure reason) are clipped to this many characters. */
export const STATUS_TEXT_MAX = 2000;

export type StatusLine = { type: string; phase?: string; detail?: string; reason?: string };

const PHASE = /^[a-z][a-z_]{0,39}$/;

function clip(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  return value.length > STATUS_TEXT_MAX ? `${value.slice(0, STATUS_TEXT_MAX)}…` : value;
}

/** One status line, or null when it is not one: only known fields, of the right kinds, clipped. */
export function parseStatusLine(raw: string): StatusLine | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.type !== "string" || !["phase", "ready", "failed", "exited"].includes(v.type)) return null;
  const line: StatusLine = { type: v.type };
  if (typeof v.phase === "string" && PHASE.test(v.phase)) line.phase = v.phase;
  const detail = clip(v.detail);
  const reason = clip(v.reason);
  if (detail !== undefined) line.detail = detail;
  if (reason !== undefined) line.reason = reason;
  return line;
}

export class StatusReader {
  private partial = Buffer.alloc(0);
  private dropping = false;
  /** Whether the last read stopped at STATUS_READ_MAX with more left in the file. */
  more = false;

  constructor(
    private readonly file: string,
    private position = 0,
  ) {}

  /** Where a reader that should skip what is already there starts: the file's current size. */
  static async end(file: string): Promise<number> {
    try {
      const stat = await fs.promises.lstat(file);
      return stat.isFile() ? stat.size : 0;
    } catch {
      return 0;
    }
  }

  /** The complete lines written since the last read, at most STATUS_READ_MAX bytes of them. */
  async read(): Promise<StatusLine[]> {
    let handle: fs.promises.FileHandle;
    try {
      const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
      handle = await fs.promises.open(this.file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch {
      this.more = false;
      return []; // not written yet
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return [];
      if (stat.size < this.position) {
        // Truncated or rebuilt (a log mirror starts over): read it again from the start.
        this.position = 0;
        this.partial = Buffer.alloc(0);
        this.dropping = false;
      }
      const length = Math.min(stat.size - this.position, STATUS_READ_MAX);
      this.more = stat.size - this.position > length;
      if (length <= 0) return [];
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, this.position);
      this.position += bytesRead;
      return this.lines(buffer.subarray(0, bytesRead));
    } finally {
      await handle.close();
    }
  }

  private lines(chunk: Buffer): StatusLine[] {
    const out: StatusLine[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.dropping || this.partial.length + piece.length > STATUS_LINE_MAX) {
        this.dropping = false;
        this.partial = Buffer.alloc(0);
        continue;
      }
      const raw = Buffer.concat([this.partial, piece]).toString("utf8");
      this.partial = Buffer.alloc(0);
      const line = raw.trim() ? parseStatusLine(raw) : null;
      if (line) out.push(line);
    }
    const rest = chunk.subarray(start);
    if (this.dropping || this.partial.length + rest.length > STATUS_LINE_MAX) {
      this.dropping = true;
      this.partial = Buffer.alloc(0);
    } else if (rest.length > 0) {
      this.partial = Buffer.concat([this.partial, rest]);
    }
    return out;
  }
}
