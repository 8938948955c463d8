import type http from "node:http";

/* Shared by the egress proxy tests (lib/sandbox/egress): a proxied response, read whole. */

export type Reply = { status: number; headers: http.IncomingHttpHeaders; body: string };

export function collect(res: http.IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
    );
    res.on("error", reject);
  });
}
