import type { Config } from "@/lib/config";
import { log } from "@/lib/log";

import type { SandboxDriver } from "../types";
import { KubernetesDriver, type KubernetesDriverOptions } from "./kubernetes/driver";
import { LocalDriver } from "./local";
import { ProcessDriver } from "./process";
import { findExecutable } from "./procs";
import type { DriverOptions } from "./supervised";

/*
 * The one place a sandbox driver is chosen and built: local (bubblewrap), process (no isolation) or
 * Kubernetes, from the configuration.
 */

export type DriverChoice = { name: "local" | "process" | "kubernetes"; reason: string };

/**
 * HANGAR_SANDBOX_DRIVER=local|process picks explicitly; unset means local when bwrap is on PATH,
 * else process. An explicit "local" without bwrap is an error rather than a silent downgrade.
 */
export function chooseSandboxDriver(env: Record<string, string | undefined> = process.env): DriverChoice {
  const wanted = env.HANGAR_SANDBOX_DRIVER?.trim() || undefined;
  const hasBwrap = findExecutable("bwrap", env.PATH) !== null;
  if (wanted === "process") return { name: "process", reason: "HANGAR_SANDBOX_DRIVER=process" };
  if (wanted === "kubernetes") return { name: "kubernetes", reason: "HANGAR_SANDBOX_DRIVER=kubernetes" };
  if (wanted === "local") {
    if (!hasBwrap) {
      throw new Error(
        "HANGAR_SANDBOX_DRIVER=local needs bubblewrap on PATH (Debian: apt-get install bubblewrap socat)",
      );
    }
    return { name: "local", reason: "HANGAR_SANDBOX_DRIVER=local" };
  }
  if (wanted !== undefined) {
    throw new Error(`HANGAR_SANDBOX_DRIVER must be "local", "process" or "kubernetes", not "${wanted}"`);
  }
  return hasBwrap
    ? { name: "local", reason: "bwrap found on PATH" }
    : { name: "process", reason: "bwrap not found on PATH" };
}

/** Builds the chosen driver; `kubernetes` gives that driver's settings when it is the one chosen. */
export function selectSandboxDriver(
  options: DriverOptions,
  env: Record<string, string | undefined> = process.env,
  kubernetes?: () => KubernetesDriverOptions,
): SandboxDriver {
  const choice = chooseSandboxDriver(env);
  if (choice.name === "kubernetes") {
    if (!kubernetes) throw new Error("the kubernetes driver needs its settings");
    log.info("sandbox driver: kubernetes", { reason: choice.reason });
    return new KubernetesDriver(kubernetes());
  }
  if (choice.name === "local") {
    log.info("sandbox driver: local (bubblewrap)", { reason: choice.reason });
    return new LocalDriver(options);
  }
  log.warn(
    "SANDBOX DRIVER 'process' HAS NO ISOLATION: agents run as this server's user with full access to " +
      "its files and network. Install bubblewrap and socat for the isolated 'local' driver.",
    { reason: choice.reason },
  );
  return new ProcessDriver(options);
}

/** The Kubernetes driver's settings from the configuration. */
export function kubernetesOptions(
  config: Config,
  root: string,
  gatewayPassword: (sessionId: string) => string,
): KubernetesDriverOptions {
  return {
    root,
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
      password: gatewayPassword,
    },
  };
}

/**
 * The driver this server runs its sandboxes with: HANGAR_SANDBOX_DRIVER from the configuration, the
 * session dirs under `root`, and the per-session password sandbox pods give the shared gateway.
 */
export function sandboxDriverFor(
  config: Config,
  root: string,
  gatewayPassword: (sessionId: string) => string,
): SandboxDriver {
  return selectSandboxDriver(
    { root },
    { ...process.env, HANGAR_SANDBOX_DRIVER: config.HANGAR_SANDBOX_DRIVER },
    () => kubernetesOptions(config, root, gatewayPassword),
  );
}
