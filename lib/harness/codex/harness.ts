import type { HarnessTerminal, TuiHarness } from "../types";
import { codexBinary } from "./binary";
import { codexLaunch } from "./launch";

function codexTerminal(): HarnessTerminal {
  return { argv: [codexBinary.file()], title: "codex" };
}

/** The OpenAI Codex CLI in a terminal Hangar holds. */
export const codexHarness = {
  id: "codex",
  kind: "tui",
  binary: codexBinary,
  terminal: codexTerminal,
  launch: (ctx) => codexLaunch(ctx, codexTerminal()),
} satisfies TuiHarness;
