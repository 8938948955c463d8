import fs from "node:fs";
import path from "node:path";

import type { SessionPaths } from "../layout";
import { SandboxError } from "../types";

/**
 * Takes the socket the sandbox made for a reverse bridge into the host-only tunnels folder. link(2)
 * links the entry itself, never what a symlink names, and the link is kept only if it is a socket:
 * whatever the sandbox puts in run/sock/, the host connects to nothing but its own socket files.
 */
export function linkTunnel(paths: SessionPaths, name: string) {
  const target = path.join(paths.tunnels, name);
  fs.mkdirSync(paths.tunnels, { recursive: true, mode: 0o700 });
  fs.rmSync(target, { force: true });
  const refuse = (why: string) =>
    new SandboxError(
      "invalid_spec",
      `The sandbox's ${name} ${why}: Hangar connects only to a socket the sandbox made there`,
    );
  try {
    fs.linkSync(path.join(paths.sock, name), target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw refuse(code === "ENOENT" ? "is missing" : `cannot be taken (${code ?? "error"})`);
  }
  if (!fs.lstatSync(target).isSocket()) {
    fs.rmSync(target, { force: true });
    throw refuse("is not a socket (a link or a file was put in its place)");
  }
}

/** Restores the missing tunnel links of `names` (launch made them); refuses an entry that is not a socket. */
export function restoreTunnels(paths: SessionPaths, names: string[]) {
  for (const name of names) {
    try {
      if (fs.lstatSync(path.join(paths.tunnels, name)).isSocket()) continue;
    } catch {
      // Not linked yet.
    }
    linkTunnel(paths, name);
  }
}
