import path from "node:path";
import { Duplex, PassThrough } from "node:stream";

import { speakPty, type PtyConnection, type PtyEvents } from "@/lib/pty/client";

import { SandboxError, type PtyInfo, type PtySpec } from "../../types";
import { preludeLine, quote, type PodExec } from "./exec";
import { POD_HOME, POD_WORKSPACE } from "./objects";

/*
 * Terminals in a sandbox pod: a pty holder (lib/pty/holder.mjs) started in the pod, which outlives
 * the exec that started it and so Hangar's restarts, and reached through a relay exec
 * (lib/pty/relay.mjs) that joins its Unix socket to the exec stream.
 */

const PTY_DIR = `${POD_HOME}/.hangar/pty`;
const PTY_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const PTY_HOLDER = path.join(process.cwd(), "lib", "pty", "holder.mjs");
const PTY_RELAY = path.join(process.cwd(), "lib", "pty", "relay.mjs");

export async function startPty(pods: PodExec, sessionId: string, spec: PtySpec): Promise<PtyInfo> {
  if (!PTY_NAME.test(spec.name))
    throw new SandboxError("invalid_spec", `Invalid terminal name: ${spec.name}`);
  if (spec.argv.length === 0 || !spec.argv[0])
    throw new SandboxError("invalid_spec", "A terminal needs a command");
  const socket = `${PTY_DIR}/${spec.name}.sock`;
  const pidPath = `${PTY_DIR}/${spec.name}.pid`;
  const alive = `[ -S ${socket} ] && kill -0 "$(cat ${pidPath} 2>/dev/null)" 2>/dev/null`;
  const running = await pods.exec(sessionId, ["/bin/sh", "-c", alive]);
  if (running.exitCode === 0) return { name: spec.name, holderPid: 0, created: false };
  const config = JSON.stringify({
    socketPath: socket,
    pidPath,
    argv: spec.argv,
    env: {
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      LANG: "C.UTF-8",
      HOME: POD_HOME,
      ...spec.env,
    },
    cwd: spec.cwd === undefined ? POD_WORKSPACE : path.posix.resolve(POD_WORKSPACE, spec.cwd),
    cols: spec.cols,
    rows: spec.rows,
    title: spec.title ?? path.basename(spec.argv[0]),
  });
  // The holder outlives this exec: its config comes through a file that is unlinked once opened.
  const start = [
    "umask 077",
    `mkdir -p ${PTY_DIR}`,
    `cat > ${PTY_DIR}/${spec.name}.json`,
    `exec 3< ${PTY_DIR}/${spec.name}.json`,
    `rm -f ${PTY_DIR}/${spec.name}.json ${socket}`,
    `setsid ${quote(process.execPath)} ${quote(PTY_HOLDER)} <&3 >> ${PTY_DIR}/${spec.name}.log 2>&1 &`,
    `for i in $(seq 1 200); do ${alive} && exit 0; sleep 0.05; done`,
    `tail -n 20 ${PTY_DIR}/${spec.name}.log >&2; exit 1`,
  ].join("\n");
  const result = await pods.exec(sessionId, ["/bin/sh", "-c", start], { stdin: config });
  if (result.exitCode !== 0) {
    throw new SandboxError(
      "launch_failed",
      `The terminal holder did not start: ${result.stderr.trim().slice(-500)}`,
    );
  }
  return { name: spec.name, holderPid: 0, created: true };
}

export async function attachPty(
  pods: PodExec,
  sessionId: string,
  name: string,
  events: Partial<PtyEvents>,
): Promise<PtyConnection> {
  if (!PTY_NAME.test(name)) throw new SandboxError("invalid_spec", `Invalid terminal name: ${name}`);
  const pod = await pods.runningPod(sessionId);
  const socket = `${PTY_DIR}/${name}.sock`;
  const check = await pods.exec(sessionId, ["/bin/sh", "-c", `[ -S ${socket} ]`]);
  if (check.exitCode !== 0) throw new SandboxError("not_running", `No terminal "${name}" in ${sessionId}`);
  const input = new PassThrough();
  input.write(preludeLine({}, undefined));
  const output = new PassThrough();
  let ws: { close: () => void } | null = null;
  const stream = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      input.write(chunk, cb);
    },
    final(cb) {
      input.end();
      ws?.close();
      cb();
    },
    read() {},
  });
  output.on("data", (chunk: Buffer) => stream.push(chunk));
  const connection = speakPty(stream, events);
  ws = await pods.run(pod, [process.execPath, PTY_RELAY, socket], input, output, new PassThrough(), () => {
    stream.push(null);
    stream.destroy();
  });
  return connection;
}
