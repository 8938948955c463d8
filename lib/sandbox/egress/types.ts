import type net from "node:net";

import type { ListenTarget } from "@/lib/listen";

import type { EgressPolicy, EgressReason } from "./policy";

/* The egress proxy's types, shared by its modules (proxy.ts, decide.ts, listeners.ts). */

export type EgressDecision = {
  sessionId: string;
  host: string;
  port: number;
  allowed: boolean;
  reason: EgressReason;
  message: string;
  rule?: string;
  /** The first permitted address, which the proxy connects to first. */
  address?: string;
  at: Date;
};

export type EgressProxyOptions = {
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

export type EgressProxy = {
  /** Idempotent for the same session and socket path (the policy is replaced). */
  listen: (sessionId: string, socketPath: string, policy: EgressPolicy) => Promise<EgressSession>;
  /** One listener for every session, authenticated per request (the gateway role). */
  listenShared: (target: ListenTarget, options: SharedEgressOptions) => Promise<SharedEgressListener>;
  closeAll: () => Promise<void>;
};
