import { log } from "@/lib/log";

import type { SandboxDriver } from "../types";
import { type DriverOptions, findExecutable, LocalDriver } from "./local";
import { ProcessDriver } from "./process";

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

export function selectSandboxDriver(
  options: DriverOptions,
  env: Record<string, string | undefined> = process.env,
  kubernetes?: () => SandboxDriver,
): SandboxDriver {
  const choice = chooseSandboxDriver(env);
  if (choice.name === "kubernetes") {
    if (!kubernetes) throw new Error("the kubernetes driver needs its settings");
    log.info("sandbox driver: kubernetes", { reason: choice.reason });
    return kubernetes();
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
