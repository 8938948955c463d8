import net from "node:net";

/* Test scaffolding for session.test.ts: opencode serve on a loopback port, reached over a socket. */

export type Bridge = { close(): Promise<void>; dropConnections(): void };

/** A Unix socket piped to a loopback port: what Hangar's reverse bridge does for a sandbox. */
export async function socketBridge(socket: string, port: number): Promise<Bridge> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const handle: Bridge = {
    dropConnections: () => {
      for (const s of open) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
  return handle;
}
