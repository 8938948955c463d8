import http from "node:http";

import { openUpstream, type Proxy, type Scope } from "./decide";
import { filterHeaders, parseHttpTarget, sendRefusal } from "./wire";

/* Plain HTTP forwarding: absolute-URI requests, with hop-by-hop headers dropped and Host set from the URI. */

/** A plain-HTTP request with an absolute URI: decided, then forwarded on a connection of its own. */
export async function handleRequest(
  proxy: Proxy,
  state: Scope,
  req: http.IncomingMessage,
  res: http.ServerResponse,
) {
  const target = parseHttpTarget(req.url);
  if (!target) {
    const message = "expected CONNECT host:port or an absolute http:// URI (this is a proxy)";
    sendRefusal(res, { status: 400, reason: "bad_request", message });
    return;
  }
  const upstream = await openUpstream(proxy, state, target, res, (refusal) => {
    if (!res.headersSent) sendRefusal(res, refusal);
  });
  if (!upstream) return;
  // RFC 9112 §3.2.2: a proxy sets Host from the request target, so one name cannot front for another.
  const headers = [...filterHeaders(req.rawHeaders, ["host"]), "Host", target.authority];
  let proxied: http.ClientRequest;
  try {
    proxied = http.request({
      createConnection: () => upstream,
      method: req.method,
      path: target.path,
      headers,
      setHost: false,
    });
  } catch (err) {
    // http.request validates more strictly than the server's parser (e.g. characters in the path).
    upstream.destroy();
    sendRefusal(res, { status: 400, reason: "bad_request", message: (err as Error).message });
    return;
  }
  proxied.on("response", (upstreamRes) => {
    res.writeHead(
      upstreamRes.statusCode ?? 502,
      upstreamRes.statusMessage,
      filterHeaders(upstreamRes.rawHeaders),
    );
    upstreamRes.pipe(res);
    upstreamRes.on("error", () => res.destroy());
  });
  proxied.on("error", (err) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const message = `${target.host}:${target.port} failed: ${err.message}`;
    sendRefusal(res, { status: 502, reason: "upstream_failed", message });
  });
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(proxied);
}
