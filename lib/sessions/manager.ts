import { log } from "@/lib/log";
import { runtime } from "@/lib/runtime";
import {
  createEgressGateway,
  type EgressDecision,
  type EgressGateway,
  type EgressSession,
} from "@/lib/sandbox/egress/gateway";
import { KubernetesDriver } from "@/lib/sandbox/drivers/kubernetes/driver";
import { selectSandboxDriver } from "@/lib/sandbox/drivers/select";
import { testResolver } from "@/lib/sandbox/egress/test-resolver";
import type { SandboxDriver } from "@/lib/sandbox/types";

import { egressPassword } from "./harness-secrets";
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

export function sessionManager(): SessionManager {
  if (slot.manager) return slot.manager;
  const config = runtime().config;
  const manager: SessionManager = {
    driver: selectSandboxDriver(
      { root: sessionsRoot() },
      { ...process.env, HANGAR_SANDBOX_DRIVER: config.HANGAR_SANDBOX_DRIVER },
      () =>
        new KubernetesDriver({
          root: sessionsRoot(),
          namespace: config.HANGAR_K8S_NAMESPACE,
          image: config.HANGAR_K8S_IMAGE,
          instance: config.HANGAR_K8S_INSTANCE,
          mode: config.HANGAR_K8S_MODE,
          runtimeClassName: config.HANGAR_K8S_RUNTIME_CLASS,
          resources: {
            cpuMillis: Math.round(config.HANGAR_SESSION_CPU * 1000),
            diskMiB: config.HANGAR_SESSION_DISK_MIB,
          },
          userNamespaces: config.HANGAR_K8S_USER_NAMESPACES,
          // Renewed while the session lives: the cluster removes sandboxes a Hangar gone for good left.
          ttlSeconds: Math.ceil(config.HANGAR_IDLE_TIMEOUT_MINUTES * 60) + 3600,
          gateway: {
            host: config.HANGAR_K8S_GATEWAY_HOST,
            egressPort: config.HANGAR_K8S_GATEWAY_EGRESS_PORT,
            modelPort: config.HANGAR_K8S_GATEWAY_MODEL_PORT,
            password: egressPassword,
          },
        }),
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
