import type { ChildProcess } from "node:child_process";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";

import { WebSocket, WebSocketServer } from "ws";

import { isAuthorized, isDenied, parseResourcePath, recordRequest, type ApiContext } from "./http";
import type { Kubelet } from "./kubelet";
import { errors, StatusError, type V1Status } from "./status";

/*
 * The WebSocket subresources of pods: exec, attach and portforward, framed as the real API server
 * frames them. Each binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 the final
 * Status (JSON), 4 terminal resize, 255 "close this channel" (v5.channel.k8s.io only). The first
 * protocol the client offers among those supported wins: exec and attach speak v5 and v4, port-forward
 * v4 (as the kubelet does), with a data and an error channel per port whose first frame carries the port
 * number (2 bytes, little-endian). tty=true is refused: processes get pipes, not a terminal.
 */

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;
const STREAM_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
const PORT_FORWARD_PROTOCOLS = ["v4.channel.k8s.io", "portforward.k8s.io"];

const frame = (channel: number, data: Buffer | string = Buffer.alloc(0)) =>
  Buffer.concat([Buffer.from([channel]), typeof data === "string" ? Buffer.from(data) : data]);

function refuse(socket: Duplex, status: V1Status) {
  const body = JSON.stringify(status);
  socket.end(
    `HTTP/1.1 ${status.code} ${status.reason ?? "Error"}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function exitStatus(code: number, argv: string[]): V1Status | Omit<V1Status, "code"> {
  if (code === 0)
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200 } as V1Status;
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${argv.join(" ")}], exit code ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

export function createUpgradeHandler(ctx: ApiContext, kubelet: Kubelet | undefined) {
  const pickFrom = (supported: string[]) => (offered: Set<string>) =>
    [...offered].find((p) => supported.includes(p)) ?? false;
  const streams = new WebSocketServer({ noServer: true, handleProtocols: pickFrom(STREAM_PROTOCOLS) });
  const forwards = new WebSocketServer({ noServer: true, handleProtocols: pickFrom(PORT_FORWARD_PROTOCOLS) });

  const handler = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    recordRequest(ctx, req, url, undefined);
    socket.on("error", () => undefined);
    try {
      if (!isAuthorized(ctx, req)) throw errors.unauthorized();
      const parsed = parseResourcePath(ctx, url.pathname);
      const sub = parsed?.subresource;
      if (
        !parsed ||
        parsed.type.kind !== "Pod" ||
        !parsed.name ||
        !["exec", "attach", "portforward"].includes(sub ?? "")
      ) {
        throw errors.noSuchResource();
      }
      for (const verb of ["get", "create"]) {
        if (isDenied(ctx, verb, "pods", sub))
          throw errors.forbidden(parsed.type, parsed.name, verb, parsed.namespace);
      }
      const pod = ctx.store.get(parsed.type, parsed.namespace, parsed.name);
      if (!kubelet)
        throw errors.badRequest(`pod ${parsed.name} has no node: the stand-in runs without a kubelet`);
      const flag = (name: string) =>
        url.searchParams.get(name) === "true" || url.searchParams.get(name) === "1";
      if (sub === "portforward") {
        const ports = url.searchParams
          .getAll("ports")
          .flatMap((p) => p.split(","))
          .map(Number);
        if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
          throw errors.badRequest("invalid port: ports must be 1-65535");
        }
        const sockets = ports.map((port) => kubelet.connectPort(pod, port));
        forwards.handleUpgrade(req, socket, head, (ws) => portForward(ws, ports, sockets));
        return;
      }
      if (flag("tty"))
        throw errors.badRequest("tty=true is not supported by the stand-in API server (pipes only)");
      const wants = { stdin: flag("stdin"), stdout: flag("stdout"), stderr: flag("stderr") };
      if (!wants.stdin && !wants.stdout && !wants.stderr) {
        throw errors.badRequest("you must specify at least 1 of stdin, stdout, stderr");
      }
      const container = url.searchParams.get("container") ?? undefined;
      if (sub === "exec") {
        const argv = url.searchParams.getAll("command");
        const child = kubelet.exec(pod, container, argv);
        streams.handleUpgrade(req, socket, head, (ws) => exec(ws, child, argv, wants));
      } else {
        const target = kubelet.attachTarget(pod, container);
        streams.handleUpgrade(req, socket, head, (ws) => attach(ws, target, wants));
      }
    } catch (err) {
      refuse(
        socket,
        err instanceof StatusError ? err.status : errors.internal((err as Error).message).status,
      );
    }
  };
  return {
    handler,
    close() {
      for (const server of [streams, forwards]) {
        for (const client of server.clients) client.terminate();
        server.close();
      }
    },
  };
}

type Wants = { stdin: boolean; stdout: boolean; stderr: boolean };

function exec(ws: WebSocket, child: ChildProcess, argv: string[], wants: Wants) {
  const send = (data: Buffer) => ws.readyState === WebSocket.OPEN && ws.send(data);
  if (!wants.stdin) child.stdin?.end();
  child.stdin?.on("error", () => undefined);
  child.stdout?.on("data", (d: Buffer) => wants.stdout && send(frame(STDOUT, d)));
  child.stderr?.on("data", (d: Buffer) => wants.stderr && send(frame(STDERR, d)));
  ws.on("message", (data: Buffer, isBinary) => {
    const buf = isBinary ? data : Buffer.from(data.toString(), "utf8");
    if (buf[0] === STDIN && wants.stdin) child.stdin?.write(buf.subarray(1));
    else if (buf[0] === CLOSE && buf[1] === STDIN) child.stdin?.end();
    // Channel 4 (resize) means nothing without a terminal.
  });
  ws.on("close", () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  child.on("error", (err) => {
    send(frame(STATUS, JSON.stringify(errors.internal(err.message).status)));
    ws.close(1000);
  });
  child.on("close", (code, signal) => {
    const exitCode = code ?? 128 + (signal === "SIGKILL" ? 9 : 15);
    send(frame(STATUS, JSON.stringify(exitStatus(exitCode, argv))));
    ws.close(1000);
  });
}

function attach(ws: WebSocket, target: ReturnType<Kubelet["attachTarget"]>, wants: Wants) {
  const child = target.child!;
  const send = (data: Buffer) => ws.readyState === WebSocket.OPEN && ws.send(data);
  const onOut = (d: Buffer) => wants.stdout && send(frame(STDOUT, d));
  const onErr = (d: Buffer) => wants.stderr && send(frame(STDERR, d));
  child.stdout?.on("data", onOut);
  child.stderr?.on("data", onErr);
  const onEnd = () => {
    send(frame(STATUS, JSON.stringify(exitStatus(target.exitCode ?? 0, [target.name]))));
    ws.close(1000);
  };
  target.events.once("end", onEnd);
  ws.on("message", (data: Buffer) => {
    // Only a container started with stdin: true has an open stdin to write to.
    if (data[0] === STDIN && wants.stdin && child.stdin?.writable) child.stdin.write(data.subarray(1));
  });
  ws.on("close", () => {
    child.stdout?.off("data", onOut);
    child.stderr?.off("data", onErr);
    target.events.off("end", onEnd);
  });
}

function portForward(ws: WebSocket, ports: number[], sockets: Socket[]) {
  const send = (data: Buffer) => ws.readyState === WebSocket.OPEN && ws.send(data);
  ports.forEach((port, i) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port, 0);
    send(frame(2 * i, prefix));
    send(frame(2 * i + 1, prefix));
    const socket = sockets[i]!;
    socket.on("data", (d: Buffer) => send(frame(2 * i, d)));
    socket.on("error", (err) => {
      send(frame(2 * i + 1, `error forwarding port ${port} to pod: ${err.message}`));
      ws.close(1000);
    });
    socket.on("end", () => ws.close(1000));
  });
  ws.on("message", (data: Buffer) => {
    const channel = data[0]!;
    if (channel % 2 === 0) sockets[channel / 2]?.write(data.subarray(1));
  });
  ws.on("close", () => {
    for (const s of sockets) s.destroy();
  });
}
