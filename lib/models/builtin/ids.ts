import { randomBytes } from "node:crypto";

/** A random id in the style of the real APIs (`msg_…`, `toolu_…`, `call_…`). */
export function newId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString("hex")}`;
}
