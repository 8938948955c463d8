import net from "node:net";
import type { Duplex } from "node:stream";

import { encodeFrame, FrameDecoder, INPUT, OUTPUT, RESIZE, SNAPSHOT, START, STATUS } from "./frames.mjs";

/** What a PTY holder reports on attach and whenever it changes. */
export type PtyStatus = {
  running: boolean;
  pid: number | null;
  cols: number;
  rows: number;
  /** How many times the program was started (it can be started again after it exits). */
  starts: number;
  exit: { code: number; signal: number | null; at: string } | null;
};

export type PtyEvents = {
  /** The current screen and scrollback as terminal escape sequences; the first thing a client gets. */
  snapshot: (screen: string) => void;
  output: (bytes: Buffer) => void;
  status: (status: PtyStatus) => void;
  /** The connection to the holder ended (the holder stopped, or close() was called). */
  close: () => void;
};

/** One attachment to a session's PTY. Closing it leaves the program running. */
export type PtyConnection = {
  write(bytes: string | Uint8Array): void;
  resize(cols: number, rows: number): void;
  /** Starts the program again after it exited (input with Enter does the same). */
  restart(): void;
  close(): void;
};

/** Connects to a holder's socket; resolves once connected (the snapshot follows as an event). */
export function connectPty(socketPath: string, events: Partial<PtyEvents>): Promise<PtyConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let settled = false;
    socket.once("connect", () => {
      settled = true;
      resolve(speakPty(socket, events));
    });
    socket.on("error", (err) => {
      if (!settled) reject(err);
    });
  });
}

/**
 * Speaks the holder's protocol over any open byte stream to it: a Unix socket here, or an exec
 * stream relayed to the socket inside a remote sandbox (lib/pty/relay.mjs).
 */
export function speakPty(stream: Duplex, events: Partial<PtyEvents>): PtyConnection {
  const decoder = new FrameDecoder();
  stream.on("data", (chunk: Buffer) => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch {
      stream.destroy();
      return;
    }
    for (const { type, payload } of frames) {
      if (type === SNAPSHOT) events.snapshot?.(payload.toString("utf8"));
      else if (type === OUTPUT) events.output?.(payload);
      else if (type === STATUS) events.status?.(JSON.parse(payload.toString("utf8")) as PtyStatus);
    }
  });
  stream.on("error", () => undefined);
  stream.on("close", () => events.close?.());
  return {
    write: (bytes) => void stream.write(encodeFrame(INPUT, bytes)),
    resize: (cols, rows) => void stream.write(encodeFrame(RESIZE, JSON.stringify({ cols, rows }))),
    restart: () => void stream.write(encodeFrame(START, "")),
    close: () => stream.end(),
  };
}
