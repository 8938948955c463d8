import { inject } from "vitest";

export type Frame = { id: number | null; event: string | null; data: string };

/**
 * Opens a server-sent-event stream on the test server and reads it frame by frame; `close()` drops
 * the connection the way a network failure would.
 */
export async function openSse(
  path: string,
  opts: {
    method?: string;
    body?: unknown;
    lastEventId?: number;
    key?: string;
    /** Another server than the suite's (its URL and master key). */
    server?: { url: string; masterKey: string };
  } = {},
) {
  const controller = new AbortController();
  const key = opts.key ?? opts.server?.masterKey ?? inject("masterKey");
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (opts.lastEventId !== undefined) headers["last-event-id"] = String(opts.lastEventId);
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch((opts.server?.url ?? inject("baseUrl")) + path, {
    method: opts.method ?? "GET",
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const comments: string[] = [];
  async function* frames(): AsyncGenerator<Frame> {
    try {
      for (;;) {
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const raw = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = raw.split("\n");
          comments.push(...lines.filter((l) => l.startsWith(":")));
          const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
          if (data.length === 0) continue;
          const id = lines.find((l) => l.startsWith("id: "))?.slice(4);
          yield {
            id: id === undefined ? null : Number(id),
            event: lines.find((l) => l.startsWith("event: "))?.slice(7) ?? null,
            data: data.join("\n"),
          };
        }
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
      }
    } catch (err) {
      if ((err as Error).name !== "AbortError") throw err;
    }
  }
  return {
    status: res.status,
    headers: res.headers,
    frames: frames(),
    comments,
    close: () => controller.abort(),
    text: async () => (res.status === 200 ? "" : await new Response(res.body).text()),
  };
}
