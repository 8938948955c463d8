import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/** Token estimate used for every usage figure: a quarter of the characters, rounded up. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/**
 * Splits text into at most `parts` pieces on word boundaries; joined, they give the text back.
 * Streams send each piece as one delta, so clients see the reply arrive in several steps.
 */
export function splitChunks(text: string, parts = 4): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  if (words.length <= 1) return text === "" ? [] : [text];
  const count = Math.min(parts, words.length);
  const size = Math.ceil(words.length / count);
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += size) chunks.push(words.slice(i, i + size).join(""));
  return chunks;
}

/** Splits a JSON string (tool arguments) into a few pieces by length. */
export function splitEvenly(text: string, parts = 3): string[] {
  if (text === "") return [];
  const size = Math.ceil(text.length / parts);
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
  return chunks;
}

/**
 * A server-sent-event response. `delta` waits the scripted delay before writing, so a slow stream
 * shows each chunk arriving on its own; writes after the client left are dropped.
 */
export class SseWriter {
  private closed = false;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly delayMs: number,
  ) {
    res.on("close", () => {
      this.closed = true;
    });
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.flushHeaders();
  }

  /** The client closed the connection before the stream ended. */
  get aborted(): boolean {
    return this.closed && !this.res.writableEnded;
  }

  /** One event; `name` adds an `event:` line (Anthropic and Responses), OpenAI chat uses none. */
  send(name: string | null, data: unknown) {
    if (this.closed) return;
    const head = name ? `event: ${name}\n` : "";
    this.res.write(`${head}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  }

  /** A content chunk: paced by the scripted delay. */
  async delta(name: string | null, data: unknown) {
    if (this.delayMs > 0 && !this.closed) await sleep(this.delayMs);
    this.send(name, data);
  }

  end() {
    if (!this.closed) this.res.end();
  }
}

/** Characters the model "wrote" in a reply: thinking, text and tool input. */
export function outputChars(reply: {
  thinking: string | null;
  text: string | null;
  toolCall: { input: unknown } | null;
}): number {
  const input = reply.toolCall
    ? typeof reply.toolCall.input === "string"
      ? reply.toolCall.input
      : JSON.stringify(reply.toolCall.input)
    : "";
  return (reply.thinking ?? "").length + (reply.text ?? "").length + input.length;
}
