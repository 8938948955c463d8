import { log } from "@/lib/log";
import { runtime } from "@/lib/runtime";
import {
  createEgressGateway,
  type EgressDecision,
  type EgressGateway,
  type EgressSession,
} from "@/lib/sandbox/egress/gateway";
import { selectSandboxDriver } from "@/lib/sandbox/drivers/select";
import type { SandboxDriver } from "@/lib/sandbox/types";

import type { ModelEndpoint } from "./model-endpoint";
import { sessionsRoot } from "./paths";

export type SessionManager = {
  driver: SandboxDriver;
  gateway: EgressGateway;
  gatewaySessions: Map<string, EgressSession>;
  modelEndpoints: Map<string, ModelEndpoint>;
  /** Boot watchers by session id; each ends when its session reaches ready-then-exit, failed or dead. */
  watchers: Map<string, { stop: () => void }>;
  /** Handlers for denied egress, registered by the launcher (denials become session events). */
  onDenied: (decision: EgressDecision) => void;
};

const SLOT = Symbol.for("hangar.sessions");
type Slot = { manager?: SessionManager };
const slot: Slot = ((globalThis as Record<symbol, Slot>)[SLOT] ??= {});

/**
 * Test-only name resolution for the egress gateway (HANGAR_TEST_HOSTS="git.test=127.0.0.1,…"):
 * made-up names map to loopback test servers. The private-address guard still applies, so a test must
 * name such a host in allow_out exactly as a user would.
 */
function testResolver(spec: string | undefined) {
  if (!spec) return undefined;
  const table = new Map(
    spec.split(",").map((pair) => pair.split("=").map((part) => part.trim()) as [string, string]),
  );
  return async (host: string) => {
    const mapped = table.get(host.toLowerCase());
    if (mapped) return [mapped];
    const { lookup } = await import("node:dns/promises");
    return (await lookup(host, { all: true })).map((a) => a.address);
  };
}

export function sessionManager(): SessionManager {
  if (slot.manager) return slot.manager;
  const config = runtime().config;
  const manager: SessionManager = {
    driver: selectSandboxDriver(
      { root: sessionsRoot() },
      { ...process.env, HANGAR_SANDBOX_DRIVER: config.HANGAR_SANDBOX_DRIVER },
    ),
    gateway: createEgressGateway({
      onDecision: (decision) => {
        if (!decision.allowed) manager.onDenied(decision);
        else
          log.debug("egress allowed", {
            sessionId: decision.sessionId,
            host: decision.host,
            port: decision.port,
          });
      },
      resolve: testResolver(config.HANGAR_TEST_HOSTS),
    }),
    gatewaySessions: new Map(),
    modelEndpoints: new Map(),
    watchers: new Map(),
    onDenied: () => {},
  };
  slot.manager = manager;
  return manager;
}
