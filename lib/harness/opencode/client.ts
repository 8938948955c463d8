import http from "node:http";

import { OPENCODE_JSON_MAX, OPENCODE_SSE_EVENT_MAX } from "@/lib/bounds";
import { log } from "@/lib/log";

import type { OpencodeError, OpencodeEvent } from "./wire";

/*
 * A JSON and event-stream client for `opencode serve`, which runs in the sandbox and may be hostile:
 * a JSON answer larger than OPENCODE_JSON_MAX and an event larger than OPENCODE_SSE_EVENT_MAX
 * (lib/bounds.ts) are not buffered. The request or stream is dropped with an error that says why.
 */

const NOT_ANSWERING = "opencode server in the sandbox is not answering";
const REQUEST_TIMEOUT_MS = 15_000;
/** The first event (server.connected) arrives at once; waiting longer means the server is stuck. */
const CONNECT_TIMEOUT_MS = 10_000;
/** opencode sends server.heartbeat every 10 s: three missed ones mean the stream is dead. */
const STALL_MS = 30_000;

export type Stream = { close(): void };

export type InboxItem =
  | { kind: "event"; event: OpencodeEvent; stream: Stream }
  /** `fatal`: the stream broke a bound, so it is not opened again. */
  | { kind: "closed"; reason: string; stream: Stream; fatal?: boolean }
  | { kind: "abort" }
  | { kind: "shutdown" };

export class OpencodeUnavailableError extends Error {
  constructor(cause: string) {
    super(`${NOT_ANSWERING}: ${cause}`);
    this.name = "OpencodeUnavailableError";
  }
}

/** opencode sent more than Hangar buffers for one answer or event; nothing is retried. */
export class OpencodeTooLargeError extends Error {
  constructor(what: string, max: number) {
    super(`opencode in the sandbox sent ${what} larger than ${max / (1024 * 1024)} MiB; Hangar dropped it`);
    this.name = "OpencodeTooLargeError";
  }
}

/** opencode answered, but with an error status. */
export class OpencodeRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "OpencodeRequestError";
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** opencode's error bodies are `{name, data: {message}}`. */
export function messageOf(body: unknown): string {
  if (typeof body === "string") return body.slice(0, 300);
  const error = body as OpencodeError | null;
  return error?.data?.message ?? error?.name ?? JSON.stringify(body).slice(0, 300);
}

/** A JSON client for `opencode serve` over a Unix socket, with Basic auth. */
export class OpencodeClient {
  private readonly auth: string;
  private readonly streams = new Set<Stream>();

  constructor(
    private readonly socketPath: string,
    password: string,
  ) {
    this.auth = `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}`;
  }

  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          socketPath: this.socketPath,
          path,
          method,
          headers: {
            authorization: this.auth,
            accept: "application/json",
            ...(payload === undefined ? {} : { "content-type": "application/json" }),
          },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size <= OPENCODE_JSON_MAX) return void chunks.push(chunk);
            chunks.length = 0;
            const err = new OpencodeTooLargeError(`an answer to ${method} ${path}`, OPENCODE_JSON_MAX);
            log.error("opencode answer dropped", { path, error: err.message });
            reject(err);
            req.destroy();
          });
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: parseJson(Buffer.concat(chunks).toString("utf8")) }),
          );
          res.on("error", (err) => reject(new OpencodeUnavailableError(err.message)));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on("error", (err) => reject(new OpencodeUnavailableError(err.message)));
      req.end(payload);
    });
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const reply = await this.request(method, path, body);
    if (reply.status >= 200 && reply.status < 300) return reply.body as T;
    throw new OpencodeRequestError(
      reply.status,
      `opencode answered ${reply.status} to ${method} ${path}: ${messageOf(reply.body)}`,
    );
  }

  /**
   * Opens GET /event; resolves once the first event (server.connected) arrived, so a prompt posted
   * afterwards cannot outrun the subscription. Later events and the stream's end go to `onItem`.
   */
  subscribe(onItem: (item: InboxItem) => void): Promise<Stream> {
    return new Promise((resolve, reject) => {
      let connected = false;
      let ended = false;
      const req = http.request({
        socketPath: this.socketPath,
        path: "/event",
        method: "GET",
        headers: { authorization: this.auth, accept: "text/event-stream" },
      });
      const stream: Stream = {
        close: () => {
          ended = true;
          clearTimeout(connectTimer);
          this.streams.delete(stream);
          req.destroy();
        },
      };
      const end = (reason: string, tooLarge?: OpencodeTooLargeError) => {
        if (ended) return;
        stream.close();
        if (connected) onItem({ kind: "closed", reason, stream, fatal: tooLarge !== undefined });
        else reject(tooLarge ?? new OpencodeUnavailableError(reason));
      };
      const connectTimer = setTimeout(
        () => end(`no event stream within ${CONNECT_TIMEOUT_MS / 1000} s`),
        CONNECT_TIMEOUT_MS,
      );
      req.setTimeout(STALL_MS, () => end(`the event stream was silent for ${STALL_MS / 1000} s`));
      req.on("error", (err) => end(err.message));
      req.on("response", (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          end(`GET /event answered ${res.statusCode}`);
          return;
        }
        res.setEncoding("utf8");
        let buffer = "";
        res.on("data", (chunk: string) => {
          // Only the new text can complete an event: the scan starts just before it.
          let boundary = buffer.length > 0 ? buffer.length - 1 : 0;
          // JSON escapes carriage returns, so dropping them only normalises CRLF line ends.
          buffer += chunk.replace(/\r/g, "");
          while ((boundary = buffer.indexOf("\n\n", boundary)) >= 0 && !ended) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            boundary = 0;
            const data = block
              .split("\n")
              .filter((line) => line.startsWith("data:"))
              .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
              .join("\n");
            const event = parseJson(data) as OpencodeEvent | string;
            if (typeof event !== "object" || event === null || typeof event.type !== "string") continue;
            if (!connected) {
              connected = true;
              clearTimeout(connectTimer);
              resolve(stream);
            }
            onItem({ kind: "event", event, stream });
          }
          // What is left is one unfinished event: it may not grow past the bound.
          if (buffer.length > OPENCODE_SSE_EVENT_MAX && !ended) {
            buffer = "";
            const err = new OpencodeTooLargeError("an event", OPENCODE_SSE_EVENT_MAX);
            log.error("opencode event stream dropped", { error: err.message });
            end(err.message, err);
          }
        });
        res.on("end", () => end("the event stream ended"));
        res.on("error", (err) => end(err.message));
      });
      this.streams.add(stream);
      req.end();
    });
  }

  closeStreams() {
    for (const stream of [...this.streams]) stream.close();
  }
}
