import fs from "node:fs/promises";
import type net from "node:net";

/*
 * Where a listener of the egress proxy or the model endpoint binds: a TCP port on a host, or a Unix
 * socket. Per session (Unix sockets bridged into a local sandbox) and shared (the gateway role,
 * reached by sandbox pods over the cluster network).
 */

export type ListenTarget = { path: string } | { host: string; port: number };

/** A setting such as HANGAR_GATEWAY_EGRESS_LISTEN: a port number on `host`, or a socket path (has a "/"). */
export function parseListenTarget(spec: string, host: string): ListenTarget {
  const value = spec.trim();
  if (value.includes("/")) return { path: value };
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new Error(`"${spec}" is neither a TCP port (0-65535) nor a Unix socket path`);
  }
  return { host, port };
}

export function describeListenTarget(target: ListenTarget): string {
  if ("path" in target) return target.path;
  return `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`;
}

/**
 * Listens on `target` and returns where it ended up (port 0 becomes the port given). A Unix socket is
 * created private (0600) and a stale one left by a crash is replaced; anything else at that path is
 * not ours to delete.
 */
export async function listenOn(server: net.Server, target: ListenTarget): Promise<ListenTarget> {
  if ("path" in target) {
    await removeStaleSocket(target.path);
    await listenPrivately(server, target.path);
    return target;
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(target.port, target.host, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  return { host: target.host, port: address.port };
}

/** A socket file left by a crashed server would make listen fail with EADDRINUSE. */
export async function removeStaleSocket(socketPath: string) {
  const stat = await fs.lstat(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw err;
  });
  if (stat === null) return;
  if (!stat.isSocket()) throw new Error(`${socketPath} exists and is not a socket`);
  await fs.rm(socketPath);
}

// bind() runs synchronously inside listen(), so a tightened umask creates the socket as 0600 with no
// window in which another user could connect. Worker threads cannot change the umask; the chmod after
// listening still applies there.
export function listenPrivately(server: net.Server, socketPath: string): Promise<void> {
  return new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    let previousMask: number | undefined;
    try {
      previousMask = process.umask(0o177);
    } catch {
      previousMask = undefined;
    }
    try {
      server.listen(socketPath, () => {
        server.removeListener("error", reject);
        resolveListen();
      });
    } finally {
      if (previousMask !== undefined) process.umask(previousMask);
    }
  }).then(() => fs.chmod(socketPath, 0o600));
}
