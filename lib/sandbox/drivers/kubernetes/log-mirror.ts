import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";

import * as k8s from "@kubernetes/client-node";

import type { SessionPaths } from "../../layout";

/*
 * Keeps a host-side copy of a sandbox pod's output, split in two the way the local drivers lay it
 * out: the bootstrap's status lines (marked, see boot.mjs) go to the host-only run/status.jsonl of
 * the session dir, everything else to its log. The launcher reads both exactly as it does for a local
 * sandbox. After a restart the copy is rebuilt from the pod's log, then followed.
 */

const MARK = "\u001eHANGAR-STATUS ";
const LOG_CAP = 8 * 1024 * 1024;
/** The pod writes its own status lines: a flood of them stops being copied here. */
const STATUS_CAP = 4 * 1024 * 1024;
const RETRY_MS = 300;

export type LogMirrorOptions = {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  namespace: string;
  /** The pod's name once it exists (null before and after), and whether its container has ended. */
  pod: () => Promise<{ name: string; ended: boolean } | null>;
  container: string;
  paths: SessionPaths;
};

export class LogMirror {
  private stopped = false;
  private lines = 0;
  private logBytes = 0;
  private statusBytes = 0;
  private abort: AbortController | null = null;
  private caughtUp!: () => void;
  private readonly caught = new Promise<void>((resolve) => (this.caughtUp = resolve));
  private readonly statusFile: string;

  constructor(private readonly options: LogMirrorOptions) {
    this.statusFile = options.paths.status;
  }

  /** The log as a person reads it: the bootstrap's status lines taken out. */
  static withoutStatus(text: string): string {
    return text
      .split("\n")
      .map((line) => (line.includes(MARK) ? line.slice(0, line.indexOf(MARK)) : line))
      .filter((line, i, all) => line !== "" || i === all.length - 1 || !all[i + 1]?.includes(MARK))
      .join("\n");
  }

  start() {
    fs.mkdirSync(path.dirname(this.statusFile), { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.dirname(this.options.paths.log), { recursive: true, mode: 0o700 });
    fs.writeFileSync(this.statusFile, "", { mode: 0o600 });
    fs.writeFileSync(this.options.paths.log, "", { mode: 0o600 });
    void this.loop();
  }

  /** Resolves once the output that existed when the mirror started is on disk (or the pod has none yet). */
  catchUp(): Promise<void> {
    return this.caught;
  }

  stop() {
    this.stopped = true;
    this.abort?.abort();
    this.caughtUp();
  }

  private async loop() {
    let first = true;
    while (!this.stopped) {
      const found = await this.options.pod().catch(() => null);
      if (!found) {
        if (first) this.caughtUp();
        if (!first) return; // the pod is gone: nothing more to mirror
        await sleep(RETRY_MS);
        continue;
      }
      const pod = found.name;
      if (first) {
        // What is there already, in one read: a restarted Hangar has the whole boot status at once.
        const existing = await this.options.core
          .readNamespacedPodLog({
            name: pod,
            namespace: this.options.namespace,
            container: this.options.container,
          })
          .catch(() => null);
        if (existing === null) {
          this.caughtUp();
          await sleep(RETRY_MS);
          continue;
        }
        this.take(existing);
        this.caughtUp();
        first = false;
      }
      const ended = await this.followOnce(pod);
      // A container that had ended before this follow began has nothing more to say.
      if (ended === "gone" || found.ended) return;
      await sleep(RETRY_MS);
    }
  }

  /** Follows the log from the start, skipping the lines already mirrored; resolves when the stream ends. */
  private async followOnce(pod: string): Promise<"ended" | "gone"> {
    let index = 0;
    let buffer = "";
    const sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        buffer += chunk.toString("utf8");
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        this.write(lines.filter(() => index++ >= this.lines));
        cb();
      },
    });
    sink.on("error", () => undefined);
    return new Promise((resolve) => {
      sink.once("finish", () => resolve("ended"));
      new k8s.Log(this.options.kc)
        .log(this.options.namespace, pod, this.options.container, sink, { follow: true })
        .then((controller) => {
          this.abort = controller;
        })
        .catch((err: unknown) => {
          sink.destroy();
          resolve(err instanceof k8s.ApiException && err.code === 404 ? "gone" : "ended");
        });
    });
  }

  /** The complete lines of a one-shot read (a trailing partial line is left to the follow stream). */
  private take(text: string) {
    const lines = text.split("\n");
    lines.pop();
    this.write(lines);
  }

  private write(lines: string[]) {
    let log = "";
    let status = "";
    for (const line of lines) {
      const at = line.indexOf(MARK);
      if (at >= 0) {
        status += line.slice(at + MARK.length) + "\n";
        if (at > 0) log += line.slice(0, at) + "\n";
      } else {
        log += line + "\n";
      }
    }
    if (status && this.statusBytes < STATUS_CAP) {
      this.statusBytes += Buffer.byteLength(status);
      fs.appendFileSync(this.statusFile, status);
    }
    if (log && this.logBytes < LOG_CAP) {
      this.logBytes += Buffer.byteLength(log);
      fs.appendFileSync(this.options.paths.log, log);
    }
    this.lines += lines.length;
  }
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
