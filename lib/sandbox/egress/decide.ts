import { promises as dns } from "node:dns";
import net from "node:net";
import os from "node:os";

import { log } from "@/lib/log";

import {
  decideConnection,
  decideHost,
  parseIpAddress,
  type EgressPolicy,
  type EgressVerdict,
} from "./policy";
import type { EgressDecision, EgressProxyOptions } from "./types";
import { describeRefusal, type Refusal, type Target } from "./wire";

/*
 * Deciding and opening a proxied connection: the policy's verdict by name, one lookup, the verdict on
 * the addresses, and a connection to an address that passed (never a second lookup).
 */

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The proxy's options with their defaults filled in. */
export type Proxy = Required<EgressProxyOptions>;

export function proxySettings(options: EgressProxyOptions): Proxy {
  return {
    onDecision: options.onDecision,
    resolve: options.resolve ?? lookupAll,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    listHostAddresses: options.listHostAddresses ?? listInterfaceAddresses,
    dial: options.dial ?? ((address: string, port: number) => net.connect({ host: address, port })),
  };
}

/** What one proxied request runs under: its session, that session's policy, and its listener's sockets. */
export type Scope = {
  readonly sessionId: string;
  readonly policy: EgressPolicy;
  readonly sockets: Set<net.Socket>;
  readonly isClosed: boolean;
};
type Outcome = { verdict: EgressVerdict; addresses: string[] };

export class ConnectError extends Error {
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

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function report(proxy: Proxy, state: Scope, target: Target, verdict: EgressVerdict, address?: string) {
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
    proxy.onDecision(decision);
  } catch (err) {
    log.warn("egress decision callback failed", { sessionId: state.sessionId, err });
  }
}

/** The policy's verdict on a target (by name, then on its resolved addresses), reported as a decision. */
export async function authorize(proxy: Proxy, state: Scope, target: Target): Promise<Outcome> {
  const policy = state.policy;
  const hostVerdict = decideHost(policy, target.host, target.port);
  if (!hostVerdict.allowed) {
    report(proxy, state, target, hostVerdict);
    return { verdict: hostVerdict, addresses: [] };
  }
  let resolved: string[] = [];
  if (parseIpAddress(target.host) === null) {
    try {
      resolved = await withTimeout(proxy.resolve(target.host), proxy.connectTimeoutMs, "lookup timed out");
    } catch (err) {
      const code = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
      const verdict: EgressVerdict = {
        allowed: false,
        reason: "dns_failed",
        message: `could not resolve ${target.host} (${code})`,
      };
      report(proxy, state, target, verdict);
      return { verdict, addresses: [] };
    }
  }
  const { addresses, ...verdict } = decideConnection(policy, {
    ...target,
    addresses: resolved,
    hostAddresses: proxy.listHostAddresses(),
  });
  report(proxy, state, target, verdict, addresses[0]);
  return { verdict, addresses };
}

function connectOnce(
  proxy: Proxy,
  state: Scope,
  address: string,
  port: number,
  deadline: number,
  signal: AbortSignal,
) {
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
    const socket = proxy.dial(address, port);
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
      () => finish(new ConnectError(`no answer from ${address} in ${proxy.connectTimeoutMs} ms`, true)),
      Math.max(0, deadline - Date.now()),
    );
    socket.once("connect", onConnect);
    socket.once("error", onError);
    signal.addEventListener("abort", onAbort);
  });
}

// Addresses are tried in resolver order (getaddrinfo already sorts by reachability), all within one deadline.
export async function connectFirst(
  proxy: Proxy,
  state: Scope,
  addresses: string[],
  port: number,
  signal: AbortSignal,
) {
  const deadline = Date.now() + proxy.connectTimeoutMs;
  let lastError = new ConnectError("no address to connect to", false);
  for (const address of addresses) {
    if (signal.aborted || Date.now() >= deadline) break;
    try {
      return await connectOnce(proxy, state, address, port, deadline, signal);
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

/** The side a request came in on: a raw client socket (CONNECT) or a response (plain HTTP). */
type Peer = {
  readonly destroyed: boolean;
  once(event: "close", listener: () => void): unknown;
  removeListener(event: "close", listener: () => void): unknown;
};

/**
 * Decides the target, then connects to its first address that answers. A refusal or a failed
 * connect goes to `refuse` (not after the peer is gone); null then, and when the peer or the session
 * closed while connecting (the new socket is destroyed). Aborts the connect when the peer goes away.
 */
export async function openUpstream(
  proxy: Proxy,
  state: Scope,
  target: Target,
  peer: Peer,
  refuse: (refusal: Refusal) => void,
): Promise<net.Socket | null> {
  const { verdict, addresses } = await authorize(proxy, state, target);
  if (!verdict.allowed) {
    refuse(describeRefusal(verdict));
    return null;
  }
  const aborter = new AbortController();
  const onClose = () => aborter.abort();
  peer.once("close", onClose);
  try {
    const upstream = await connectFirst(proxy, state, addresses, target.port, aborter.signal);
    if (peer.destroyed || state.isClosed) {
      upstream.destroy();
      return null;
    }
    return upstream;
  } catch (err) {
    if (!peer.destroyed) refuse(describeConnectError(target, err as ConnectError));
    return null;
  } finally {
    peer.removeListener("close", onClose);
  }
}
