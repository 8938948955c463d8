import path from "node:path";

import { runtime } from "@/lib/runtime";

/** All session dirs live here; the driver scans it after a restart to adopt running sandboxes. */
export function sessionsRoot(): string {
  return path.join(runtime().config.HANGAR_DATA_DIR, "sessions");
}

export function sessionDir(sessionId: string): string {
  return path.join(sessionsRoot(), sessionId);
}
