import fs from "node:fs/promises";
import http from "node:http";

import { listenOn, listenPrivately, removeStaleSocket, type ListenTarget } from "@/lib/listen";

import { proxySettings } from "./decide";
import { admitShared, serveProxy, type SessionState, type SharedState } from "./listeners";
import type { EgressPolicy } from "./policy";
import type {
  EgressDecision,
  EgressProxy,
  EgressProxyOptions,
  EgressSession,
  SharedEgressListener,
  SharedEgressOptions,
} from "./types";

/*
 * The host-side egress proxy. One Node process serves every session, in one of two ways:
 * - per session (local drivers): each session gets its own HTTP proxy on a Unix socket bridged into
 *   its sandbox, with its own policy;
 * - shared (the gateway role, Kubernetes): one listener for all sessions, where every request names
 *   its session with `Proxy-Authorization: Basic <sessionId>:<password>` and gets that session's policy.
 * It speaks CONNECT (HTTPS and any TCP) and absolute-URI plain HTTP. Every destination is decided by
 * name first (a denied name is never resolved), then resolved once, and the connection goes to an
 * address that passed the guard, never through a second lookup (DNS rebinding).
 *
 * Here: the proxy's API and its listeners' lifetimes. Deciding and connecting is decide.ts, CONNECT
 * connect.ts, plain HTTP forward.ts, the servers' wiring listeners.ts, the wire format wire.ts, the
 * shared types types.ts.
 */

/** The data of the `egress_denied` session event a refused decision becomes, on every driver. */
export function egressDeniedEvent(decision: EgressDecision) {
  return { host: decision.host, port: decision.port, reason: decision.reason, message: decision.message };
}

export function createEgressProxy(options: EgressProxyOptions): EgressProxy {
  const proxy = proxySettings(options);
  const sessions = new Map<string, { socketPath: string; ready: Promise<EgressSession> }>();
  const shared = new Set<SharedEgressListener>();

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
    serveProxy(proxy, server, state.sockets, () => ({ scope: state }), { sessionId });
    await listenPrivately(server, socketPath);
    return state.handle;
  }

  async function startShared(
    target: ListenTarget,
    options: SharedEgressOptions,
  ): Promise<SharedEgressListener> {
    const server = http.createServer({ requestTimeout: 0 });
    const state: SharedState = { server, sockets: new Set(), isClosed: false };
    serveProxy(proxy, server, state.sockets, (req) => admitShared(state, options, req), {});
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
            new Error(`egress proxy for session ${sessionId} already listens on ${existing.socketPath}`),
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
