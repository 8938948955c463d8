import type { HarnessTerminal, TuiHarness } from "../types";
import { claudeBinary } from "./binary";
import { claudeLaunch } from "./launch";

function claudeTerminal(model: string): HarnessTerminal {
  return { argv: [claudeBinary.file(), "--model", model], title: "claude" };
}

/** The Claude Code CLI in a terminal Hangar holds. */
export const claudeCodeHarness = {
  id: "claude-code",
  kind: "tui",
  binary: claudeBinary,
  terminal: claudeTerminal,
  launch: (ctx) => claudeLaunch(ctx, claudeTerminal(ctx.model)),
} satisfies TuiHarness;
