import type http from "node:http";
import type net from "node:net";

import { openUpstream, type Proxy, type Scope } from "./decide";
import { parseConnectTarget, writeRawRefusal } from "./wire";

/* CONNECT handling: HTTPS and any other TCP, tunnelled once the destination is allowed. */

// Errors from a pipe are handled by whoever tears the pair down; a clean end is passed on as an end
// (not a destroy) so data still queued for the other side is flushed first.
function joinSockets(client: net.Socket, upstream: net.Socket) {
  const destroyBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", destroyBoth);
  upstream.on("error", destroyBoth);
  client.on("close", () => {
    if (!upstream.writableEnded) upstream.end();
  });
  upstream.on("close", () => {
    if (!client.writableEnded) client.end();
  });
  client.pipe(upstream);
  upstream.pipe(client);
}

/** A CONNECT: decided, then a raw tunnel to the first address that answers. */
export async function handleConnect(
  proxy: Proxy,
  state: Scope,
  req: http.IncomingMessage,
  client: net.Socket,
  head: Buffer,
) {
  client.on("error", () => client.destroy());
  const target = parseConnectTarget(req.url);
  if (!target) {
    writeRawRefusal(client, { status: 400, reason: "bad_request", message: "expected CONNECT host:port" });
    return;
  }
  const upstream = await openUpstream(proxy, state, target, client, (refusal) =>
    writeRawRefusal(client, refusal),
  );
  if (!upstream) return;
  client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  if (head.length > 0) upstream.write(head);
  joinSockets(client, upstream);
}
