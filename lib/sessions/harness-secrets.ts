import { createHash, randomBytes } from "node:crypto";

import { runtime } from "@/lib/runtime";

/**
 * The password of a harness server inside the sandbox (opencode serve), derived from the encryption
 * key and the session id: the host can always recompute it, also after a restart, and never stores it.
 */
export function harnessPassword(sessionId: string): string {
  return runtime().box.derive(`harness-password:${sessionId}`);
}

export function newModelToken(): { token: string; hash: string } {
  const token = "hst_" + randomBytes(24).toString("base64url");
  return { token, hash: createHash("sha256").update(token).digest("hex") };
}

/**
 * The password a sandbox presents to the shared egress proxy (Kubernetes driver), with the session id
 * as the user name: `http://<sessionId>:<password>@gateway:3128`. Derived like the harness password,
 * so the gateway checks it with no lookup and no stored copy.
 */
export function egressPassword(sessionId: string): string {
  return runtime().box.derive(`egress-password:${sessionId}`);
}
