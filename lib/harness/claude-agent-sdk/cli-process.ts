import type { ChildProcess } from "node:child_process";
import { Transform, type Readable, type Writable } from "node:stream";

import type { SpawnedProcess, SpawnOptions } from "@anthropic-ai/claude-agent-sdk";

import { CLAUDE_SDK_LINE_MAX, CLAUDE_SDK_STDERR_TAIL } from "@/lib/bounds";
import { log } from "@/lib/log";

import type { HarnessSessionOptions } from "../turn";

/*
 * The CLI process of one turn, as the SDK starts it through Hangar's sandbox spawn. The CLI runs in
 * the sandbox, so it may be hostile: a stdout line longer than CLAUDE_SDK_LINE_MAX stops it, and only
 * a short tail of its stderr is kept (lib/bounds.ts).
 */

type Spawn = NonNullable<HarnessSessionOptions["spawn"]>;

const STDERR_REPORT_LINES = 8;

/** The last lines the CLI wrote to stderr, for error messages a person can act on. */
class StderrTail {
  private text = "";

  push(chunk: Buffer | string) {
    this.text = (this.text + chunk.toString().slice(-CLAUDE_SDK_STDERR_TAIL)).slice(-CLAUDE_SDK_STDERR_TAIL);
  }

  lines(): string {
    return this.text
      .split("\n")
      .map((line) => line.trimEnd())
      .filter((line) => line.trim() !== "")
      .slice(-STDERR_REPORT_LINES)
      .join("\n");
  }
}

const EXIT_WAIT_MS = 5_000;

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Waits for a child to exit, killing it if it takes longer than `ms`. */
async function reap(child: ChildProcess, ms: number): Promise<void> {
  if (exited(child)) return;
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  await exit;
  clearTimeout(timer);
}

/**
 * The CLI's stdout as the SDK reads it, with no line longer than `max` bytes: past that, `onOver` is
 * called once and the stream ends, so the SDK's line reader never holds more.
 */
function boundedLines(source: NodeJS.ReadableStream, max: number, onOver: () => void): Transform {
  let lineLength = 0;
  let over = false;
  const lines = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (over) return done();
      // Complete lines go on to the SDK's reader; only the unfinished last one waits there.
      const lastNewline = chunk.lastIndexOf(10);
      lineLength = lastNewline < 0 ? lineLength + chunk.length : chunk.length - lastNewline - 1;
      if (lineLength > max) {
        over = true;
        onOver();
        this.push(null);
        return done();
      }
      done(null, chunk);
    },
  });
  source.pipe(lines);
  return lines;
}

/**
 * One turn: the CLI process the SDK starts through Hangar's sandbox spawn, its stderr, and the
 * switch that stops it. `controller` is the SDK's; `stopped` is only set when someone asked to stop
 * (the SDK also aborts its controller when it cleans up after a finished turn).
 */
export class Run {
  readonly controller = new AbortController();
  readonly stderr = new StderrTail();
  private readonly asked = new AbortController();
  private readonly children: ChildProcess[] = [];
  spawnError: Error | null = null;
  /** Set when the CLI broke a bound: why the turn ended. */
  overflow: string | null = null;

  /** Resolves when someone stops the turn. */
  readonly onStop = new Promise<null>((resolve) =>
    this.asked.signal.addEventListener("abort", () => resolve(null), { once: true }),
  );

  get stopped(): boolean {
    return this.asked.signal.aborted;
  }

  // The SDK only closes the CLI's stdin on abort and kills it seconds later, while the reply keeps
  // streaming; SIGTERM stops the request at once and still lets Claude Code save its transcript.
  readonly stop = () => {
    this.asked.abort();
    this.controller.abort();
    for (const child of this.children) if (!exited(child)) child.kill("SIGTERM");
  };

  spawner(spawn: Spawn): (options: SpawnOptions) => SpawnedProcess {
    return ({ command, args, env, signal }) => {
      // The SDK was given an empty env, so these are only its own additions (entrypoint, version…).
      const own = Object.fromEntries(
        Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
      );
      // cwd stays unset: the sandbox's workspace is where the CLI belongs, not Hangar's cwd.
      const child: ChildProcess = spawn([command, ...args], { env: own });
      this.children.push(child);
      child.on("error", (err) => (this.spawnError ??= err));
      if (!child.stdin || !child.stdout) {
        child.kill("SIGKILL");
        throw new Error("the sandbox spawn must pipe stdin and stdout");
      }
      child.stderr?.on("data", (chunk: Buffer) => this.stderr.push(chunk));
      // The SDK aborts this signal after its own stdin-EOF grace period: the hard stop.
      signal.addEventListener("abort", () => child.kill("SIGKILL"), { once: true });
      if (this.stopped) child.kill("SIGTERM");
      const stdout = boundedLines(child.stdout, CLAUDE_SDK_LINE_MAX, () => {
        this.overflow = `it wrote a line longer than ${CLAUDE_SDK_LINE_MAX / (1024 * 1024)} MiB to stdout`;
        log.error("claude-agent-sdk CLI stopped", { error: this.overflow });
        child.kill("SIGKILL");
      });
      return processOf(child, child.stdin, stdout);
    };
  }

  /** Waits until the CLI has exited, so the next turn never resumes a transcript still written to. */
  async settle(): Promise<void> {
    await Promise.all(this.children.map((child) => reap(child, EXIT_WAIT_MS)));
  }
}

type Listener = (...args: unknown[]) => void;

/** The child as the SDK sees it, with stdout replaced by the bounded stream. */
function processOf(child: ChildProcess, stdin: Writable, stdout: Readable): SpawnedProcess {
  return {
    stdin,
    stdout,
    get killed() {
      return child.killed;
    },
    get exitCode() {
      return child.exitCode;
    },
    get signalCode() {
      return child.signalCode;
    },
    kill: (signal) => child.kill(signal),
    // The SDK listens for "exit" and "error" only; each is the child's own event.
    on: ((event: string, listener: Listener) => void child.on(event, listener)) as SpawnedProcess["on"],
    once: ((event: string, listener: Listener) => void child.once(event, listener)) as SpawnedProcess["once"],
    off: ((event: string, listener: Listener) => void child.off(event, listener)) as SpawnedProcess["off"],
  };
}
