/*
 * The harnesses as the rest of Hangar uses them: the registry's lookups, the turn contract, and the
 * turn clients for callers that drive one directly (tests, bench).
 */

export { createClaudeSdkSession, type ClaudeSdkSessionOptions } from "./claude-agent-sdk/session";
export { sdkChildEnv } from "./claude-agent-sdk/child-env";
export { createOpencodeSession } from "./opencode/session";
export {
  HARNESS_PROXY,
  harnessLaunch,
  harnessOf,
  harnessPackageDirs,
  harnessTui,
  installedHarnessBinaries,
  proxiedHarness,
} from "./registry";
export { withSessionEnv } from "./sandbox-env";
export type { HarnessSession, HarnessSessionOptions, PermissionReply, TurnSummary } from "./turn";
export type { Harness, HarnessContext, HarnessLaunch, HarnessServer, TurnClientContext } from "./types";
