import type { HARNESSES, HarnessId } from "@/lib/schemas/harness";

import { installedFile } from "./binaries";
import { claudeAgentSdkHarness } from "./claude-agent-sdk/harness";
import { claudeCodeHarness } from "./claude-code/harness";
import { codexHarness } from "./codex/harness";
import { opencodeHarness } from "./opencode/harness";
import type {
  Harness,
  HarnessBinary,
  HarnessContext,
  HarnessLaunch,
  HarnessProxy,
  HarnessTerminal,
} from "./types";

/*
 * Every harness by id. The wire contract (the ids, labels and kinds the browser shows) is
 * lib/schemas/harness.ts, which the browser imports and so never imports this; the type below checks
 * this table against it: one entry per id, each of the kind the schema says.
 */
const REGISTRY = {
  opencode: opencodeHarness,
  "claude-agent-sdk": claudeAgentSdkHarness,
  "claude-code": claudeCodeHarness,
  codex: codexHarness,
} satisfies { [Id in HarnessId]: Harness & { id: Id; kind: (typeof HARNESSES)[Id]["kind"] } };

export function harnessOf(id: HarnessId): Harness {
  return REGISTRY[id];
}

/** How each harness starts inside the sandbox. Turn handling and PTYs live in the messaging layer. */
export function harnessLaunch(harness: HarnessId, ctx: HarnessContext): HarnessLaunch {
  return harnessOf(harness).launch(ctx);
}

/** The TUI a session of this harness shows in its terminal, if it has one. */
export function harnessTui(harness: HarnessId, model: string): HarnessTerminal | undefined {
  const found = harnessOf(harness);
  return found.kind === "tui" ? found.terminal(model) : undefined;
}

/** Each program once, though two harnesses may run it (claude serves both Claude harnesses). */
function binaries(): HarnessBinary[] {
  const byName = new Map<string, HarnessBinary>();
  for (const harness of Object.values(REGISTRY)) byName.set(harness.binary.name, harness.binary);
  return [...byName.values()];
}

/** The folders holding the binaries, which a sandbox must see (read-only) wherever Hangar is installed. */
export function harnessPackageDirs(): string[] {
  return binaries().map((binary) => binary.packageDir());
}

/**
 * The binaries present in this install by name (a missing platform package is null), for callers
 * that must say what they skip rather than fail: the harness tests.
 */
export function installedHarnessBinaries(): Record<string, string | null> {
  return Object.fromEntries(binaries().map((binary) => [binary.name, installedFile(binary)]));
}

const PROXIES = Object.values(REGISTRY).flatMap((harness): [Harness, HarnessProxy][] =>
  "proxy" in harness ? [[harness, harness.proxy]] : [],
);

/**
 * /api/v1/managed_agents/sessions/{id}/<segment>{/...}{?...}: a harness server passed through.
 * Groups: the session id, the segment, the path (may be missing) and the query string.
 */
export const HARNESS_PROXY = new RegExp(
  `^/api/v1/managed_agents/sessions/([^/]+)/(${PROXIES.map(([, proxy]) => proxy.segment).join("|")})(/[^?]*)?(\\?.*)?$`,
);

/** The harness whose proxy serves `segment`, and that proxy. */
export function proxiedHarness(segment: string): { harness: Harness; proxy: HarnessProxy } | null {
  const found = PROXIES.find(([, proxy]) => proxy.segment === segment);
  return found ? { harness: found[0], proxy: found[1] } : null;
}
