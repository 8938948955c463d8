import { SANDBOX_PRIVATE } from "@/lib/sandbox/types";

/**
 * Runs `argv` inside the sandbox with the session's harness environment, which the bootstrap keeps
 * in env.sh in the sandbox's private memory-backed folder (per-session values exist only there and in
 * the harness's processes: never on a disk). Programs Hangar starts later enter the sandbox's mount
 * namespace, so they see that folder; drivers without one name theirs in HANGAR_PRIVATE.
 */
export function withSessionEnv(argv: string[]): string[] {
  const file = `"\${HANGAR_PRIVATE:-${SANDBOX_PRIVATE}}/env.sh"`;
  return ["/bin/sh", "-c", `. ${file} && exec "$@"`, "hangar-env", ...argv];
}

// The sandbox's main process for harnesses that Hangar drives per turn (SDK) or through a PTY (TUIs):
// it keeps the sandbox alive, like a pod's pause container.
export const KEEP_ALIVE = ["sleep", "infinity"];
