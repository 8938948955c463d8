// The wire between Hangar and a PTY holder (lib/pty/holder.mjs) over its Unix socket: frames of
// [type: u8][length: u32 big-endian][payload]. Plain JavaScript because the holder runs without a
// TypeScript loader; frames.d.mts types it for the server side.

/** Holder → client. */
export const SNAPSHOT = 0x01; // utf-8: the serialised screen and scrollback, sent once on attach
export const OUTPUT = 0x02; // raw bytes from the PTY
export const STATUS = 0x03; // JSON PtyStatus, on attach and whenever it changes
/** Client → holder. */
export const INPUT = 0x11; // raw bytes for the PTY
export const RESIZE = 0x12; // JSON {cols, rows}
export const START = 0x13; // start the program again if it has exited

const HEADER = 5;
/** Frames above this size are a protocol error (a snapshot of a large scrollback stays well below). */
export const MAX_FRAME = 64 * 1024 * 1024;

export function encodeFrame(type, payload) {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload);
  const frame = Buffer.allocUnsafe(HEADER + body.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, HEADER);
  return frame;
}

/** Splits a byte stream into frames; throws on a frame larger than MAX_FRAME. */
export class FrameDecoder {
  #pending = Buffer.alloc(0);

  push(chunk) {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const frames = [];
    while (this.#pending.length >= HEADER) {
      const length = this.#pending.readUInt32BE(1);
      if (length > MAX_FRAME) throw new Error(`PTY frame of ${length} bytes is too large`);
      if (this.#pending.length < HEADER + length) break;
      frames.push({
        type: this.#pending.readUInt8(0),
        payload: this.#pending.subarray(HEADER, HEADER + length),
      });
      this.#pending = this.#pending.subarray(HEADER + length);
    }
    return frames;
  }
}
