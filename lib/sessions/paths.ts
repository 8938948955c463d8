import path from "node:path";

import { runtime } from "@/lib/runtime";
import { sessionsRootIn } from "@/lib/sandbox/layout";

/** This server's session dirs (the layout is lib/sandbox/layout.ts; the data folder is the config's). */
export function sessionsRoot(): string {
  return sessionsRootIn(runtime().config.HANGAR_DATA_DIR);
}

export function sessionDir(sessionId: string): string {
  return path.join(sessionsRoot(), sessionId);
}
