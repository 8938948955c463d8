import type { ApiHarness } from "../types";
import { opencodeBinary } from "./binary";
import { opencodeLaunch } from "./launch";
import { opencodeProxy } from "./proxy";
import { createOpencodeSession } from "./session";

/** `opencode serve` in the sandbox, driven over its HTTP API and also reachable through the proxy. */
export const opencodeHarness = {
  id: "opencode",
  kind: "api",
  binary: opencodeBinary,
  launch: opencodeLaunch,
  proxy: opencodeProxy,
  openTurnClient: (ctx) =>
    createOpencodeSession({
      model: ctx.model,
      prompt: ctx.prompt,
      harnessSessionId: ctx.harnessSessionId,
      socketPath: ctx.server.socketPath,
      password: ctx.server.password,
    }),
} satisfies ApiHarness;
