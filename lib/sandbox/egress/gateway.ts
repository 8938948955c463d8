import { timingSafeEqual } from "node:crypto";
import { promises as dns } from "node:dns";
import fs from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";

import { listenOn, listenPrivately, removeStaleSocket, type ListenTarget } from "@/lib/gateway/listen";
import { log } from "@/lib/log";

import {
  decideConnection,
  decideHost,
  normalizeHost,
  parseIpAddress,
  type EgressPolicy,
  type EgressReason,
  type EgressVerdict,
} from "./policy";

/*
 * The host-side egress proxy. One Node process serves every session, in one of two ways:
 * - per session (local drivers): each session gets its own HTTP proxy on a Unix socket bridged into
 *   its sandbox, with its own policy;
 * - shared (the gateway role, Kubernetes): one listener for all sessions, where every request names
 *   its session with `Proxy-Authorization: Basic <sessionId>:<password>` and gets that session's policy.
 * It speaks CONNECT (HTTPS and any TCP) and absolute-URI plain HTTP. Every destination is decided by
 * name first (a denied name is never resolved), then resolved once, and the connection goes to an
 * address that passed the guard, never through a second lookup (DNS rebinding).
 */

export type EgressDecision = {
  sessionId: string;
  host: string;
  port: number;
  allowed: boolean;
  reason: EgressReason;
  message: string;
  rule?: string;
  /** The first permitted address, which the gateway connects to first. */
  address?: string;
  at: Date;
};

export type EgressGatewayOptions = {
  /** Called once per proxied request with the policy's verdict, before any connection is made. */
  onDecision: (decision: EgressDecision) => void;
  /** Defaults to `dns.promises.lookup(host, { all: true })`. */
  resolve?: (host: string) => Promise<string[]>;
  /** Bounds the DNS lookup and, separately, the TCP connect. Default 10 s. */
  connectTimeoutMs?: number;
  /** Defaults to the addresses of os.networkInterfaces(), read per request (interfaces change). */
  listHostAddresses?: () => string[];
  /**
   * Opens the TCP connection to a checked IP address; defaults to net.connect. Only ever called with an
   * address that passed the policy, so a test can stand in for the internet without weakening the guard.
   */
  dial?: (address: string, port: number) => net.Socket;
};

export type EgressSession = {
  readonly sessionId: string;
  readonly socketPath: string;
  /** Applies to requests that start after the call; open tunnels keep going. */
  updatePolicy: (policy: EgressPolicy) => void;
  /** Stops listening and destroys every client and upstream socket of this session. */
  close: () => Promise<void>;
};

/** How the shared listener learns who a request belongs to and what that session may reach. */
export type SharedEgressOptions = {
  /** True when `password` is the session's proxy password (compared in constant time). */
  checkPassword: (sessionId: string, password: string) => boolean;
  /** The policy of a live session; null when the session is unknown or has ended. */
  policyFor: (sessionId: string) => Promise<EgressPolicy | null>;
};

export type SharedEgressListener = {
  /** Where it listens (a requested port 0 is resolved to the real one). */
  readonly target: ListenTarget;
  /** Stops listening and destroys every client and upstream socket. */
  close: () => Promise<void>;
};

export type EgressGateway = {
  /** Idempotent for the same session and socket path (the policy is replaced). */
  listen: (sessionId: string, socketPath: string, policy: EgressPolicy) => Promise<EgressSession>;
  /** One listener for every session, authenticated per request (the gateway role). */
  listenShared: (target: ListenTarget, options: SharedEgressOptions) => Promise<SharedEgressListener>;
  closeAll: () => Promise<void>;
};

export type EgressFailure =
  | "bad_request"
  | "connect_failed"
  | "connect_timeout"
  | "upstream_failed"
  | "proxy_auth_required"
  | "session_ended"
  | "lookup_failed";

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const MAX_HOST_LENGTH = 253;

// RFC 9110 §7.6.1 hop-by-hop fields, plus the legacy Proxy-Connection and our own credentials.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  407: "Proxy Authentication Required",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The HTTP status the gateway answers with for a refused or failed request. */
export function toHttpStatus(reason: EgressReason | EgressFailure): number {
  if (reason === "invalid_host" || reason === "bad_request") return 400;
  if (reason === "proxy_auth_required") return 407;
  if (reason === "dns_failed" || reason === "connect_failed" || reason === "upstream_failed") return 502;
  if (reason === "lookup_failed") return 503;
  if (reason === "connect_timeout") return 504;
  return 403;
}

/** The data of the `egress_denied` session event a refused decision becomes, on every driver. */
export function egressDeniedEvent(decision: EgressDecision) {
  return { host: decision.host, port: decision.port, reason: decision.reason, message: decision.message };
}

type Target = { host: string; port: number };
/** What one proxied request runs under: its session, that session's policy, and its listener's sockets. */
type Scope = {
  readonly sessionId: string;
  readonly policy: EgressPolicy;
  readonly sockets: Set<net.Socket>;
  readonly isClosed: boolean;
};
type SessionState = {
  sessionId: string;
  socketPath: string;
  policy: EgressPolicy;
  server: http.Server;
  sockets: Set<net.Socket>;
  isClosed: boolean;
  handle: EgressSession;
};
type SharedState = { server: http.Server; sockets: Set<net.Socket>; isClosed: boolean };
type Outcome = { verdict: EgressVerdict; addresses: string[] };
type Refusal = { status: number; reason: EgressReason | EgressFailure; message: string };
type Admission = { scope: Scope } | { refusal: Refusal };

const AUTH_REQUIRED: Refusal = {
  status: 407,
  reason: "proxy_auth_required",
  message: "this proxy needs the session's credentials (Proxy-Authorization: Basic)",
};

/** `Basic base64(<sessionId>:<password>)`; null when absent or malformed. Never logged. */
function parseProxyCredentials(header: string | undefined): { sessionId: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header ?? "");
  if (!match) return null;
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return null;
  return { sessionId: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Constant-time comparison of a presented secret with the expected one. */
export function secretsMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

class ConnectError extends Error {
  constructor(
    message: string,
    readonly isTimeout: boolean,
  ) {
    super(message);
  }
}

function listInterfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((infos) => (infos ?? []).map((info) => info.address));
}

async function lookupAll(host: string): Promise<string[]> {
  const results = await dns.lookup(host, { all: true, verbatim: true });
  return results.map((result) => result.address);
}

function parseConnectTarget(text: string | undefined): Target | null {
  const match =
    /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text ?? "") ?? /^([^:[\]/\s]+):(\d{1,5})$/.exec(text ?? "");
  return match ? toTarget(match[1] ?? "", Number(match[2])) : null;
}

function toTarget(rawHost: string, port: number): Target | null {
  if (rawHost.length === 0 || rawHost.length > MAX_HOST_LENGTH + 1) return null;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: normalizeHost(rawHost), port };
}

type HttpTarget = Target & { authority: string; path: string };

// The path is taken verbatim from the request line, not from URL.pathname, which would re-normalise it.
function parseHttpTarget(url: string | undefined): HttpTarget | null {
  const match = /^http:\/\/([^/?#]+)([^#]*)/i.exec(url ?? "");
  if (!match) return null;
  let parsed: URL;
  try {
    parsed = new URL(`http://${match[1]}/`);
  } catch {
    return null;
  }
  const target = toTarget(parsed.hostname, parsed.port === "" ? 80 : Number(parsed.port));
  if (!target) return null;
  const rest = match[2] ?? "";
  const path = rest.startsWith("/") ? rest : `/${rest}`;
  return { ...target, authority: parsed.host, path };
}

function filterHeaders(rawHeaders: readonly string[], drop: readonly string[] = []): string[] {
  const named = new Set<string>(drop);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== "connection") continue;
    for (const token of (rawHeaders[i + 1] ?? "").split(",")) named.add(token.trim().toLowerCase());
  }
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    kept.push(name, rawHeaders[i + 1] ?? "");
  }
  return kept;
}

function describeRefusal(verdict: EgressVerdict): Refusal {
  return { status: toHttpStatus(verdict.reason), reason: verdict.reason, message: verdict.message };
}

function buildRefusalHeaders(refusal: Refusal): Record<string, string> {
  return {
    ...(refusal.status === 407 ? { "Proxy-Authenticate": 'Basic realm="hangar"' } : {}),
    "X-Hangar-Egress":
      refusal.status === 403 ? "denied" : refusal.status === 407 ? "unauthenticated" : "failed",
    "X-Hangar-Egress-Reason": refusal.reason,
    "Content-Type": "text/plain; charset=utf-8",
    Connection: "close",
  };
}

// After a CONNECT the socket belongs to us, not to the HTTP server, so the reply is written by hand.
function writeRawRefusal(socket: net.Socket, refusal: Refusal) {
  const body = `${refusal.message}\n`;
  const headers = { ...buildRefusalHeaders(refusal), "Content-Length": String(Buffer.byteLength(body)) };
  const head = [
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status] ?? "Error"}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}

function sendRefusal(res: http.ServerResponse, refusal: Refusal) {
  res.writeHead(refusal.status, buildRefusalHeaders(refusal)).end(`${refusal.message}\n`);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

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

export function createEgressGateway(options: EgressGatewayOptions): EgressGateway {
  const resolve = options.resolve ?? lookupAll;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const listHostAddresses = options.listHostAddresses ?? listInterfaceAddresses;
  const dial = options.dial ?? ((address: string, port: number) => net.connect({ host: address, port }));
  const sessions = new Map<string, { socketPath: string; ready: Promise<EgressSession> }>();
  const shared = new Set<SharedEgressListener>();

  function report(state: Scope, target: Target, verdict: EgressVerdict, address?: string) {
    const decision: EgressDecision = {
      sessionId: state.sessionId,
      host: target.host,
      port: target.port,
      allowed: verdict.allowed,
      reason: verdict.reason,
      message: verdict.message,
      ...(verdict.rule === undefined ? {} : { rule: verdict.rule }),
      ...(address === undefined ? {} : { address }),
      at: new Date(),
    };
    try {
      options.onDecision(decision);
    } catch (err) {
      log.warn("egress decision callback failed", { sessionId: state.sessionId, err });
    }
  }

  async function authorize(state: Scope, target: Target): Promise<Outcome> {
    const policy = state.policy;
    const hostVerdict = decideHost(policy, target.host, target.port);
    if (!hostVerdict.allowed) {
      report(state, target, hostVerdict);
      return { verdict: hostVerdict, addresses: [] };
    }
    let resolved: string[] = [];
    if (parseIpAddress(target.host) === null) {
      try {
        resolved = await withTimeout(resolve(target.host), connectTimeoutMs, "lookup timed out");
      } catch (err) {
        const code =
          err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
        const verdict: EgressVerdict = {
          allowed: false,
          reason: "dns_failed",
          message: `could not resolve ${target.host} (${code})`,
        };
        report(state, target, verdict);
        return { verdict, addresses: [] };
      }
    }
    const { addresses, ...verdict } = decideConnection(policy, {
      ...target,
      addresses: resolved,
      hostAddresses: listHostAddresses(),
    });
    report(state, target, verdict, addresses[0]);
    return { verdict, addresses };
  }

  function connectOnce(state: Scope, address: string, port: number, deadline: number, signal: AbortSignal) {
    return new Promise<net.Socket>((resolvePromise, reject) => {
      // The guard checked this exact string; refusing anything but an IP literal rules out a second lookup.
      if (net.isIP(address.split("%")[0] ?? "") === 0) {
        reject(new ConnectError(`${address} is not an IP address`, false));
        return;
      }
      if (state.isClosed) {
        reject(new ConnectError("the session's gateway is closed", false));
        return;
      }
      const socket = dial(address, port);
      state.sockets.add(socket);
      socket.once("close", () => state.sockets.delete(socket));
      const finish = (err: ConnectError | null) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        socket.removeListener("error", onError);
        socket.removeListener("connect", onConnect);
        // From here the caller's pipes handle errors; this keeps a stray one from crashing the process.
        if (err === null) return resolvePromise(socket.on("error", () => {}));
        socket.destroy();
        reject(err);
      };
      const onConnect = () => finish(null);
      const onError = (err: Error) => finish(new ConnectError(`${address}: ${err.message}`, false));
      const onAbort = () => finish(new ConnectError("the client went away", false));
      const timer = setTimeout(
        () => finish(new ConnectError(`no answer from ${address} in ${connectTimeoutMs} ms`, true)),
        Math.max(0, deadline - Date.now()),
      );
      socket.once("connect", onConnect);
      socket.once("error", onError);
      signal.addEventListener("abort", onAbort);
    });
  }

  // Addresses are tried in resolver order (getaddrinfo already sorts by reachability), all within one deadline.
  async function connectFirst(state: Scope, addresses: string[], port: number, signal: AbortSignal) {
    const deadline = Date.now() + connectTimeoutMs;
    let lastError = new ConnectError("no address to connect to", false);
    for (const address of addresses) {
      if (signal.aborted || Date.now() >= deadline) break;
      try {
        return await connectOnce(state, address, port, deadline, signal);
      } catch (err) {
        lastError = err as ConnectError;
      }
    }
    if (Date.now() >= deadline) lastError = new ConnectError(lastError.message, true);
    throw lastError;
  }

  function describeConnectError(target: Target, err: ConnectError): Refusal {
    return err.isTimeout
      ? {
          status: 504,
          reason: "connect_timeout",
          message: `timed out connecting to ${target.host}:${target.port}`,
        }
      : {
          status: 502,
          reason: "connect_failed",
          message: `could not connect to ${target.host}:${target.port} (${err.message})`,
        };
  }

  async function handleConnect(state: Scope, req: http.IncomingMessage, client: net.Socket, head: Buffer) {
    client.on("error", () => client.destroy());
    const target = parseConnectTarget(req.url);
    if (!target) {
      writeRawRefusal(client, { status: 400, reason: "bad_request", message: "expected CONNECT host:port" });
      return;
    }
    const { verdict, addresses } = await authorize(state, target);
    if (!verdict.allowed) {
      writeRawRefusal(client, describeRefusal(verdict));
      return;
    }
    const aborter = new AbortController();
    const onClientClose = () => aborter.abort();
    client.once("close", onClientClose);
    let upstream: net.Socket;
    try {
      upstream = await connectFirst(state, addresses, target.port, aborter.signal);
    } catch (err) {
      if (!client.destroyed) writeRawRefusal(client, describeConnectError(target, err as ConnectError));
      return;
    } finally {
      client.removeListener("close", onClientClose);
    }
    if (client.destroyed || state.isClosed) {
      upstream.destroy();
      return;
    }
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    joinSockets(client, upstream);
  }

  async function handleRequest(state: Scope, req: http.IncomingMessage, res: http.ServerResponse) {
    const target = parseHttpTarget(req.url);
    if (!target) {
      const message = "expected CONNECT host:port or an absolute http:// URI (this is a proxy)";
      sendRefusal(res, { status: 400, reason: "bad_request", message });
      return;
    }
    const { verdict, addresses } = await authorize(state, target);
    if (!verdict.allowed) {
      sendRefusal(res, describeRefusal(verdict));
      return;
    }
    const aborter = new AbortController();
    const onClose = () => aborter.abort();
    res.once("close", onClose);
    let upstream: net.Socket;
    try {
      upstream = await connectFirst(state, addresses, target.port, aborter.signal);
    } catch (err) {
      if (!res.headersSent && !res.destroyed) {
        sendRefusal(res, describeConnectError(target, err as ConnectError));
      }
      return;
    } finally {
      res.removeListener("close", onClose);
    }
    if (res.destroyed || state.isClosed) {
      upstream.destroy();
      return;
    }
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

  /**
   * Wires a proxy server: `admit` names the session a request runs under (or refuses it), then the
   * request is decided and proxied under that session's policy.
   */
  function serveProxy(
    server: http.Server,
    sockets: Set<net.Socket>,
    admit: (req: http.IncomingMessage) => Admission | Promise<Admission>,
    context: Record<string, unknown>,
  ) {
    server.on("connection", (socket: net.Socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      // The socket is ours from here; an error while the request is being admitted must not go unheard.
      socket.on("error", () => socket.destroy());
      const run = async () => {
        const admission = await admit(req);
        if ("scope" in admission) return handleConnect(admission.scope, req, socket, head);
        writeRawRefusal(socket, admission.refusal);
      };
      run().catch((err: unknown) => {
        log.error("egress CONNECT failed", { ...context, err });
        socket.destroy();
      });
    });
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const run = async () => {
        const admission = await admit(req);
        if ("scope" in admission) return handleRequest(admission.scope, req, res);
        sendRefusal(res, admission.refusal);
      };
      run().catch((err: unknown) => {
        log.error("egress request failed", { ...context, err });
        res.destroy();
      });
    });
    server.on("upgrade", (_req: http.IncomingMessage, socket: net.Socket) => {
      writeRawRefusal(socket, {
        status: 400,
        reason: "bad_request",
        message: "Upgrade is not proxied; use CONNECT (wss:// or ws:// through a tunnel)",
      });
    });
  }

  async function startSession(
    sessionId: string,
    socketPath: string,
    policy: EgressPolicy,
  ): Promise<EgressSession> {
    await removeStaleSocket(socketPath);
    // Uploads through the proxy can take longer than Node's default 5-minute request timeout.
    const server = http.createServer({ requestTimeout: 0 });
    const state: SessionState = {
      sessionId,
      socketPath,
      policy,
      server,
      sockets: new Set(),
      isClosed: false,
      handle: {
        sessionId,
        socketPath,
        updatePolicy: (next) => {
          state.policy = next;
        },
        close: () => closeSession(state),
      },
    };
    serveProxy(server, state.sockets, () => ({ scope: state }), { sessionId });
    await listenPrivately(server, socketPath);
    return state.handle;
  }

  // Each request proves its session with the session's proxy password; the session's policy is looked
  // up per request (the caller caches), so a stopped session's sandbox is refused from then on.
  async function admitShared(
    state: SharedState,
    options: SharedEgressOptions,
    req: http.IncomingMessage,
  ): Promise<Admission> {
    const credentials = parseProxyCredentials(req.headers["proxy-authorization"]);
    if (!credentials || !options.checkPassword(credentials.sessionId, credentials.password)) {
      return { refusal: AUTH_REQUIRED };
    }
    const { sessionId } = credentials;
    let policy: EgressPolicy | null;
    try {
      policy = await options.policyFor(sessionId);
    } catch (err) {
      log.error("egress session lookup failed", { sessionId, err });
      return {
        refusal: {
          status: 503,
          reason: "lookup_failed",
          message: "the gateway could not look up the session",
        },
      };
    }
    if (!policy) {
      return {
        refusal: { status: 403, reason: "session_ended", message: `session ${sessionId} is not running` },
      };
    }
    const scope: Scope = {
      sessionId,
      policy,
      sockets: state.sockets,
      get isClosed() {
        return state.isClosed;
      },
    };
    return { scope };
  }

  async function startShared(
    target: ListenTarget,
    options: SharedEgressOptions,
  ): Promise<SharedEgressListener> {
    const server = http.createServer({ requestTimeout: 0 });
    const state: SharedState = { server, sockets: new Set(), isClosed: false };
    serveProxy(server, state.sockets, (req) => admitShared(state, options, req), {});
    const bound = await listenOn(server, target);
    const listener: SharedEgressListener = {
      target: bound,
      close: async () => {
        if (state.isClosed) return;
        state.isClosed = true;
        shared.delete(listener);
        const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
        for (const socket of state.sockets) socket.destroy();
        await closed;
        if ("path" in bound) await fs.rm(bound.path, { force: true });
      },
    };
    shared.add(listener);
    return listener;
  }

  async function closeSession(state: SessionState) {
    if (state.isClosed) return;
    state.isClosed = true;
    if (sessions.get(state.sessionId)?.socketPath === state.socketPath) sessions.delete(state.sessionId);
    const closed = new Promise<void>((resolveClose) => state.server.close(() => resolveClose()));
    for (const socket of state.sockets) socket.destroy();
    await closed;
    await fs.rm(state.socketPath, { force: true });
  }

  return {
    listen(sessionId, socketPath, policy) {
      const existing = sessions.get(sessionId);
      if (existing) {
        if (existing.socketPath !== socketPath) {
          return Promise.reject(
            new Error(`egress gateway for session ${sessionId} already listens on ${existing.socketPath}`),
          );
        }
        return existing.ready.then((handle) => {
          handle.updatePolicy(policy);
          return handle;
        });
      }
      const ready = startSession(sessionId, socketPath, policy);
      sessions.set(sessionId, { socketPath, ready });
      ready.catch(() => {
        if (sessions.get(sessionId)?.ready === ready) sessions.delete(sessionId);
      });
      return ready;
    },
    listenShared: startShared,
    async closeAll() {
      const pending = [...sessions.values()].map(({ ready }) =>
        ready.then(
          (handle) => handle.close(),
          () => {},
        ),
      );
      await Promise.all([...pending, ...[...shared].map((listener) => listener.close())]);
    },
  };
}
