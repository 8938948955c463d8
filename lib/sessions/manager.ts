import { log } from "@/lib/log";
import type { ModelEndpoint } from "@/lib/models/endpoint";
import { processSlot } from "@/lib/process-slot";
import { runtime } from "@/lib/runtime";
import { sandboxDriverFor } from "@/lib/sandbox/drivers/select";
import { createEgressProxy } from "@/lib/sandbox/egress/proxy";
import { testResolver } from "@/lib/sandbox/egress/test-hook-resolver";
import type { EgressDecision, EgressProxy, EgressSession } from "@/lib/sandbox/egress/types";
import type { SandboxDriver } from "@/lib/sandbox/types";

import { egressPassword } from "./harness-secrets";
import { sessionsRoot } from "./paths";

export type SessionManager = {
  driver: SandboxDriver;
  egressProxy: EgressProxy;
  egressSessions: Map<string, EgressSession>;
  modelEndpoints: Map<string, ModelEndpoint>;
  /** Boot watchers by session id; each ends when its session reaches ready-then-exit, failed or dead. */
  watchers: Map<string, { stop: () => void }>;
  /** Handlers for denied egress, registered by the launcher (denials become session events). */
  onDenied: (decision: EgressDecision) => void;
};

const slot = processSlot<{ manager?: SessionManager }>("sessions", () => ({}));

export function sessionManager(): SessionManager {
  if (slot.manager) return slot.manager;
  const config = runtime().config;
  const manager: SessionManager = {
    driver: sandboxDriverFor(config, sessionsRoot(), egressPassword),
    egressProxy: createEgressProxy({
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
    egressSessions: new Map(),
    modelEndpoints: new Map(),
    watchers: new Map(),
    onDenied: () => {},
  };
  slot.manager = manager;
  return manager;
}
