import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { Writable } from "node:stream";

import * as k8s from "@kubernetes/client-node";

import { log } from "@/lib/log";

import { sessionPaths } from "../../layout";
import type { ReverseBridge } from "../../types";
import { explain } from "./api";

/*
 * The tunnels to a sandbox pod's ports (the harness's, a launch's reverse bridges): a Unix socket per
 * port in the session dir's host-only run/tunnels/, each connection one port-forward stream through
 * the API server, so the cluster exposes nothing. Which ports a session has travels in an annotation
 * of its Sandbox (or Pod), so a restarted Hangar or another replica opens the same ones.
 */

export type Tunnel = { socketPath: string; port: number };

const TUNNELS_ANNOTATION = "hangar.dev/tunnels";

/** The tunnels of a launch's reverse bridges, by socket file name. */
export function tunnelsOf(reverseBridges: ReverseBridge[] | undefined): Tunnel[] {
  return (reverseBridges ?? []).map((b) => ({ socketPath: path.basename(b.socketPath), port: b.port }));
}

/** The annotations that record the tunnels on the session's object. */
export function tunnelAnnotations(tunnels: Tunnel[]): Record<string, string> {
  return { [TUNNELS_ANNOTATION]: JSON.stringify(tunnels) };
}

/** The tunnels recorded on a session's object (none when it has no annotation). */
export function recordedTunnels(object: { metadata?: unknown } | null | undefined): Tunnel[] {
  const annotations = object?.metadata as { annotations?: Record<string, string> } | undefined;
  return JSON.parse(annotations?.annotations?.[TUNNELS_ANNOTATION] ?? "[]") as Tunnel[];
}

/** The tunnels this process listens for, by session. */
export class Tunnels {
  private readonly forward: k8s.PortForward;
  private readonly servers = new Map<string, net.Server>();

  constructor(
    kc: k8s.KubeConfig,
    private readonly namespace: string,
    /** The pod of a running sandbox, or an error saying why there is none. */
    private readonly runningPod: (sessionId: string) => Promise<string>,
  ) {
    this.forward = new k8s.PortForward(kc);
  }

  /** Host socket (in the host-only run/tunnels/) → pod port, one port-forward stream per connection. */
  async listen(sessionId: string, sessionDir: string, tunnels: Tunnel[]) {
    const sockDir = sessionPaths(sessionDir).tunnels;
    fs.mkdirSync(sockDir, { recursive: true, mode: 0o700 });
    for (const tunnel of tunnels) {
      const socketPath = path.join(sockDir, path.basename(tunnel.socketPath));
      const key = `${sessionId}\0${socketPath}`;
      if (this.servers.has(key)) continue;
      const server = net.createServer((conn) => void this.forwardOne(sessionId, tunnel.port, conn));
      fs.rmSync(socketPath, { force: true });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socketPath, resolve);
      });
      fs.chmodSync(socketPath, 0o600);
      server.unref();
      this.servers.set(key, server);
    }
  }

  private async forwardOne(sessionId: string, port: number, conn: net.Socket) {
    conn.on("error", () => undefined);
    try {
      const pod = await this.runningPod(sessionId);
      const out = new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (conn.destroyed) return cb();
          conn.write(chunk, () => cb());
        },
      });
      const ws = (await this.forward.portForward(this.namespace, pod, [port], out, null, conn)) as {
        on: (event: string, cb: () => void) => void;
        close: () => void;
      };
      ws.on("close", () => conn.destroy());
      conn.on("close", () => ws.close());
    } catch (err) {
      log.warn("port-forward failed", { sessionId, port, error: explain(err) });
      conn.destroy();
    }
  }

  /** Stops listening for one session's tunnels. */
  async close(sessionId: string) {
    for (const [key, server] of this.servers) {
      if (!key.startsWith(`${sessionId}\0`)) continue;
      this.servers.delete(key);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Stops listening for all of them, without waiting. */
  closeAll() {
    for (const server of this.servers.values()) server.close();
    this.servers.clear();
  }
}
