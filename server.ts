/*
 * Hangar's one process: Next.js (pages and /api routes), the API fast path, and WebSocket upgrades for
 * terminals. Start-up order: configuration, keys, database and migrations, then listen. With
 * HANGAR_ROLE=gateway the same process serves only the shared egress proxy and model endpoint
 * (lib/gateway/role.ts). Every request and upgrade first passes `admit`: its transport is settled
 * (lib/api/transport.ts), a path that does not decode is refused, and the security headers are set.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";

import next from "next";

import { createApiDispatcher, loadApiRoutes } from "./lib/api/router";
import { contentSecurityPolicy, securityHeaders } from "./lib/api/security-headers";
import { hasMalformedPath, settleTransport } from "./lib/api/transport";
import { StartupError } from "./lib/config";
import { startGatewayRole } from "./lib/gateway/role";
import { log } from "./lib/log";
import { handleTerminalUpgrade, refuseUpgrade } from "./lib/pty/terminals";
import { initRuntime, markMasterKeyShown, type Runtime } from "./lib/runtime";
import { stopPool } from "./lib/sessions/pool";
import { startSessions } from "./lib/sessions/service";
import { listenForRevocations } from "./lib/teams/revocation";

async function main() {
  const dev = process.argv.includes("--dev");
  // Next reads NODE_ENV to pick its production or development runtime.
  Object.assign(process.env, { NODE_ENV: dev ? "development" : "production" });
  const rt = await initRuntime();
  if (rt.config.HANGAR_ROLE === "gateway") {
    const gateway = await startGatewayRole();
    stopOnSignals(rt, () => gateway.close());
    return;
  }
  const { PORT: port, HOST: host } = rt.config;

  const app = next({ dev, hostname: host, port, dir: process.cwd() });
  // On the first page request Next adds its own "upgrade" listener to this server, which ends every
  // upgrade it does not route itself (our /tty WebSockets included). Upgrades are dispatched below
  // instead; Next's own (the dev reload socket) still reach it there. A private field of Next's custom
  // server: e2e/api/terminal.test.ts fails if a Next upgrade changes it.
  (app as unknown as { didWebSocketSetup: boolean }).didWebSocketSetup = true;
  await app.prepare();
  const handler = app.getRequestHandler();
  const api = createApiDispatcher(await loadApiRoutes(path.join(process.cwd(), "app")));
  await startSessions();
  // Revocations made by other replicas close this one's open streams and terminals too.
  await listenForRevocations();

  const trustProxy = rt.config.HANGAR_TRUST_PROXY;
  const server = createServer((req, res) => {
    if (!admit(req, res, { trustProxy, dev })) return;
    api(req, res)
      .then((handled) => (handled ? undefined : handler(req, res)))
      .catch((err: unknown) => {
        log.error("request failed", { err });
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ error: { code: "internal_error", message: "Something went wrong on our side." } }),
        );
      });
  });
  server.keepAliveTimeout = 65_000;
  const upgradeNext = app.getUpgradeHandler();
  server.on("upgrade", (req, socket, head) => {
    settleTransport(req, trustProxy);
    if (hasMalformedPath(req.url)) {
      return refuseUpgrade(socket, 400, "bad_request", "The request path has malformed percent-encoding");
    }
    // Terminals; anything else (Next's dev reload socket) goes to Next.
    if (!handleTerminalUpgrade(req, socket, head)) void upgradeNext(req, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => reject(listenError(err, host, port)));
    server.listen(port, host, resolve);
  });

  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const lines = [`Hangar is running at ${url} (database: ${rt.dbKind})`];
  if (rt.generatedMasterKey) {
    lines.push(
      `A master key was generated for you. It is shown this once and kept in ${rt.masterKeyFile} (mode 0600):`,
      `  ${rt.generatedMasterKey}`,
    );
  } else if (rt.masterKeyFile) {
    lines.push(`Master key: in ${rt.masterKeyFile}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
  if (rt.generatedMasterKey) markMasterKeyShown(rt);
  log.info("listening", { url, database: rt.dbKind });

  stopOnSignals(rt, async () => {
    server.close();
    server.closeAllConnections();
    // Warm sandboxes are no session's: they go with the process (sessions' sandboxes outlive it).
    await stopPool();
  });
}

const MALFORMED = JSON.stringify({
  error: { code: "bad_request", message: "The request path has malformed percent-encoding" },
});

/**
 * Before any routing: settles the transport, refuses a path that does not decode (400, the JSON
 * envelope), and sets the app's security headers. Pages get a fresh script nonce, handed to Next in
 * the request's own Content-Security-Policy header (where Next looks for it) and to the root layout.
 */
function admit(req: IncomingMessage, res: ServerResponse, opts: { trustProxy: boolean; dev: boolean }) {
  const { secure } = settleTransport(req, opts.trustProxy);
  delete req.headers["content-security-policy-report-only"];
  delete req.headers["x-nonce"];
  if (hasMalformedPath(req.url)) {
    res.writeHead(400, {
      ...securityHeaders({ csp: contentSecurityPolicy({}), secure }),
      "content-type": "application/json",
      "content-length": Buffer.byteLength(MALFORMED),
    });
    res.end(MALFORMED);
    return false;
  }
  const page = !(req.url ?? "/").startsWith("/api/");
  const nonce = page ? randomBytes(16).toString("base64") : undefined;
  const csp = contentSecurityPolicy({ nonce, host: req.headers.host, dev: opts.dev });
  if (nonce) {
    req.headers["x-nonce"] = nonce;
    req.headers["content-security-policy"] = csp;
  } else delete req.headers["content-security-policy"];
  for (const [name, value] of Object.entries(securityHeaders({ csp, secure }))) res.setHeader(name, value);
  return true;
}

/** SIGINT/SIGTERM: stop listening, close the database, exit 0. */
function stopOnSignals(rt: Runtime, closeListeners: () => Promise<void>) {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    void closeListeners()
      .then(() => rt.close())
      .catch((err: unknown) => log.error("close failed", { err }))
      .finally(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** Why Hangar cannot listen, as one sentence with the fix when the cause is a common one. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  if (err.code === "EADDRINUSE") {
    return new StartupError(
      `Port ${port} on ${host} is already in use: stop what holds it or set PORT to another port.`,
    );
  }
  if (err.code === "EACCES") {
    return new StartupError(
      `Not allowed to listen on ${where}: choose a PORT above 1023 or run with the right to bind it.`,
    );
  }
  if (err.code === "EADDRNOTAVAIL") {
    return new StartupError(
      `${host} is not an address of this machine: set HOST to one of its addresses (or 0.0.0.0).`,
    );
  }
  return err;
}

main().catch((err: unknown) => {
  if (err instanceof StartupError) {
    process.stderr.write(err.message + "\n");
  } else {
    process.stderr.write(`Hangar failed to start: ${(err as Error).stack ?? String(err)}\n`);
  }
  process.exit(1);
});
