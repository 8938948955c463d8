/* Helpers shared by this folder's tests: the built-in model on a loopback port and an SSE reader. */

export type SseEvent = { event: string | null; data: string; at: number };

/** Reads a server-sent-event body to its end, recording when each event arrived. */
export async function readSse(response: Response): Promise<SseEvent[]> {
  if (!response.body) throw new Error("no body");
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = raw.split("\n");
      events.push({
        event: lines.find((l) => l.startsWith("event: "))?.slice(7) ?? null,
        data: lines
          .filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6))
          .join("\n"),
        at: Date.now(),
      });
    }
  }
  return events;
}

/** The JSON payloads of a stream, `[DONE]` left out. */
export function payloads(events: SseEvent[]): Record<string, unknown>[] {
  return events.filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data) as Record<string, unknown>);
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}
