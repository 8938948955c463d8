import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import path from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";

import * as k8s from "@kubernetes/client-node";

import { SandboxError, type ExecOptions, type ExecResult } from "../../types";
import { explain } from "./api";
import { CONTAINER, POD_WORKSPACE, PRLIMIT } from "./objects";

/*
 * Programs in a running sandbox, through the API server's WebSocket exec into the sandbox container:
 * one-shot commands with their output collected (exec), and long-lived ones shaped like a
 * ChildProcess (spawn).
 */

/** `text` as one single-quoted shell word. */
export const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * Programs started in a running sandbox read their environment and working directory from the
 * first line of stdin (base64 of a shell script), never from argv: exec arguments travel in the
 * request URL, which API servers write to their audit logs.
 */
const PRELUDE =
  "IFS= read -r hangar_env || exit 125; " +
  // An exec'd process gets the runtime's rlimits, not the main process's: the pod's cap again.
  `[ -z "$HANGAR_NPROC" ] || ${PRLIMIT} --pid $$ --nproc="$HANGAR_NPROC:$HANGAR_NPROC" || exit 126; ` +
  'eval "$(printf %s "$hangar_env" | base64 -d)" || exit 126; exec "$@"';

/** The first stdin line PRELUDE reads: env, working directory and (optionally) where to write its pid. */
export function preludeLine(env: Record<string, string>, cwd: string | undefined, pidFile?: string): string {
  for (const key of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw new SandboxError("invalid_spec", `Invalid env name: ${key}`);
  }
  const dir = cwd === undefined ? POD_WORKSPACE : path.posix.resolve(POD_WORKSPACE, cwd);
  const script = [
    ...Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}`),
    `cd ${quote(dir)} || exit 126`,
    ...(pidFile ? [`echo $$ > ${quote(pidFile)}`] : []),
  ].join("\n");
  return Buffer.from(script).toString("base64") + "\n";
}

/** A program running in a pod through an exec stream, shaped like a ChildProcess for its callers. */
class RemoteProcess extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed = false;
  pid: number | undefined = undefined;
  socket: { close: () => void } | null = null;
  onKill: (signal: NodeJS.Signals) => void = () => undefined;

  kill(signal: NodeJS.Signals | number = "SIGTERM"): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    this.killed = true;
    const name = typeof signal === "number" ? "SIGKILL" : signal;
    this.onKill(name);
    return true;
  }

  finish(code: number | null, signal: NodeJS.Signals | null) {
    if (this.exitCode !== null || this.signalCode !== null) return;
    this.exitCode = code;
    this.signalCode = signal;
    this.stdout.end();
    this.stderr.end();
    this.emit("exit", code, signal);
    this.emit("close", code, signal);
  }
}

/** The exit code in an exec's final V1Status (channel 3). */
function exitCodeOf(status: k8s.V1Status): number {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

/** Exec into the sandbox container of a session's running pod. */
export class PodExec {
  private readonly exec_: k8s.Exec;

  constructor(
    kc: k8s.KubeConfig,
    private readonly namespace: string,
    /** The pod of a running sandbox, or an error saying why there is none. */
    readonly runningPod: (sessionId: string) => Promise<string>,
  ) {
    this.exec_ = new k8s.Exec(kc);
  }

  /** Runs argv in the sandbox container over an exec stream; stdin starts with the prelude line. */
  async run(
    pod: string,
    argv: string[],
    stdin: Readable,
    stdout: Writable,
    stderr: Writable,
    done: (code: number) => void,
  ) {
    let reported = false;
    const socket = await this.exec_.exec(
      this.namespace,
      pod,
      CONTAINER,
      ["/bin/sh", "-c", PRELUDE, "hangar", ...argv],
      stdout,
      stderr,
      stdin,
      false,
      (status) => {
        reported = true;
        done(exitCodeOf(status));
      },
    );
    socket.on("close", () => {
      if (!reported) done(-1);
    });
    return socket;
  }

  async exec(sessionId: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0 || !argv[0]) throw new SandboxError("invalid_spec", "exec needs a command");
    const pod = await this.runningPod(sessionId);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const collect = (into: Buffer[]) =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          into.push(Buffer.from(chunk));
          cb();
        },
      });
    const input = Readable.from([
      preludeLine(options.env ?? {}, options.cwd),
      ...(options.stdin ? [Buffer.from(options.stdin)] : []),
    ]);
    return new Promise<ExecResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      const finish = (code: number) => {
        clearTimeout(timer);
        resolve({
          exitCode: timedOut ? 124 : code,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
          timedOut,
        });
      };
      let settled = false;
      const once = (code: number) => {
        if (settled) return;
        settled = true;
        // Output frames may trail the status frame within the same tick.
        setImmediate(() => finish(code));
      };
      this.run(pod, argv, input, collect(out), collect(err), once).then(
        (socket) => {
          if (options.timeoutMs) {
            timer = setTimeout(() => {
              timedOut = true;
              socket.close();
            }, options.timeoutMs);
          }
        },
        (e: unknown) => reject(new SandboxError("not_running", `exec failed: ${explain(e)}`)),
      );
    });
  }

  spawn(
    sessionId: string,
    argv: string[],
    options: { env?: Record<string, string>; cwd?: string } = {},
  ): ChildProcess {
    if (argv.length === 0 || !argv[0]) throw new SandboxError("invalid_spec", "spawn needs a command");
    const child = new RemoteProcess();
    const pidFile = `/tmp/hangar-spawn-${randomBytes(6).toString("hex")}.pid`;
    const input = new PassThrough();
    input.write(preludeLine(options.env ?? {}, options.cwd, pidFile));
    child.stdin.pipe(input);
    let podName: string | null = null;
    child.onKill = (signal) => {
      if (!podName) return child.finish(null, signal);
      void this.exec(sessionId, [
        "/bin/sh",
        "-c",
        `kill -s ${signal.replace(/^SIG/, "")} "$(cat ${pidFile})"`,
      ]).catch(() => undefined);
      if (signal === "SIGKILL") child.socket?.close();
    };
    this.runningPod(sessionId)
      .then(async (pod) => {
        podName = pod;
        child.socket = await this.run(pod, argv, input, child.stdout, child.stderr, (code) =>
          child.finish(code < 0 ? null : code, code < 0 ? "SIGKILL" : null),
        );
      })
      .catch((err: unknown) => {
        child.emit("error", err instanceof Error ? err : new Error(String(err)));
        child.finish(null, "SIGKILL");
      });
    return child as unknown as ChildProcess;
  }
}
