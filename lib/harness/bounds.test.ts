import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { CLAUDE_SDK_LINE_MAX, OPENCODE_JSON_MAX, OPENCODE_SSE_EVENT_MAX } from "@/lib/bounds";

import { createClaudeSdkSession } from "./claude-agent-sdk/session";
import { OpencodeTooLargeError } from "./opencode/client";
import { createOpencodeSession } from "./opencode/session";

/*
 * The harness adapters against a hostile harness. What runs in a sandbox may be anything, so these
 * fakes stand in for a sandbox gone hostile (no real harness would send this): an `opencode serve`
 * on a Unix socket that streams an endless SSE event or an endless JSON answer, and a Claude Code
 * CLI that writes one endless line. The adapters give up at their bound (lib/bounds.ts) with a clear
 * error, and the fake sees its connection dropped after little more than that many bytes: Hangar
 * read no further and buffered no more.
 */

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, "a");
/** How far a fake goes before it gives up itself; far beyond every bound. */
const ENDLESS = 256 * MiB;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Writes `head`, then CHUNKs until the peer leaves (or ENDLESS), honouring back-pressure. */
function flood(res: http.ServerResponse, head: string, sent: { bytes: number; closed: boolean }) {
  res.on("close", () => (sent.closed = true));
  res.write(head);
  const more = () => {
    while (!sent.closed && sent.bytes < ENDLESS) {
      sent.bytes += CHUNK.length;
      if (!res.write(CHUNK)) return void res.once("drain", more);
    }
  };
  more();
}

type Mode = "endless-event" | "endless-json";

/** A fake `opencode serve` gone hostile, on a Unix socket. */
async function hostileOpencode(mode: Mode) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-hostile-oc-"));
  const socketPath = path.join(dir, "harness.sock");
  const sent = { bytes: 0, closed: false };
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.method === "POST" && req.url === "/session") {
      if (mode === "endless-json") {
        res.writeHead(200, { "content-type": "application/json" });
        return flood(res, '{"id":"', sent);
      }
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ id: "ses_hostile" }));
    }
    if (req.url === "/event") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"type":"server.connected","properties":{}}\n\n');
      // One event that never ends: a part update whose text goes on forever.
      return flood(res, 'data: {"type":"message.part.updated","properties":{"part":{"text":"', sent);
    }
    if (req.url?.endsWith("/prompt_async")) return res.writeHead(204).end();
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        fs.rmSync(dir, { recursive: true, force: true });
      }),
  );
  return { socketPath, sent };
}

async function until(check: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return check();
}

describe("opencode adapter against a hostile server (a fake standing in for a hostile sandbox)", () => {
  it("an endless SSE event: the stream is dropped at the bound and the turn ends with an error", async () => {
    const fake = await hostileOpencode("endless-event");
    const session = await createOpencodeSession({
      model: "m",
      prompt: "",
      harnessSessionId: null,
      socketPath: fake.socketPath,
      password: "pw",
    });
    cleanups.push(() => session.close());
    const heapBefore = process.memoryUsage().heapUsed;
    const events: unknown[] = [];
    const summary = await session.turn({
      text: "hi",
      emit: async (event) => void events.push(event),
      signal: new AbortController().signal,
    });
    expect(summary.finish).toBe("error");
    expect(summary.error).toMatch(/sent an event larger than 4 MiB; Hangar dropped it/);
    expect(events).toEqual([]);
    expect(await until(() => fake.sent.closed)).toBe(true);
    // The fake's socket buffers hold a little more than what was read.
    expect(fake.sent.bytes).toBeLessThan(OPENCODE_SSE_EVENT_MAX + 4 * MiB);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * MiB);
  });

  it("an endless JSON answer: the request is dropped at the bound with a clear error", async () => {
    const fake = await hostileOpencode("endless-json");
    const opened = createOpencodeSession({
      model: "m",
      prompt: "",
      harnessSessionId: null,
      socketPath: fake.socketPath,
      password: "pw",
    });
    await expect(opened).rejects.toThrow(OpencodeTooLargeError);
    await expect(opened).rejects.toThrow(/an answer to POST \/session larger than 16 MiB/);
    expect(await until(() => fake.sent.closed)).toBe(true);
    expect(fake.sent.bytes).toBeLessThan(OPENCODE_JSON_MAX + 4 * MiB);
  });
});

describe("claude-agent-sdk adapter against a hostile CLI (a fake standing in for a hostile sandbox)", () => {
  it("an endless stdout line: the CLI is stopped at the bound and the turn ends with an error", async () => {
    let read = 0;
    const fake =
      "const b = Buffer.alloc(65536, 97); let n = 0;" +
      "(function w() { while (n < 512 * 1048576) { n += b.length;" +
      " if (!process.stdout.write(b)) return void process.stdout.once('drain', w); } })();";
    const session = await createClaudeSdkSession({
      model: "m",
      prompt: "",
      harnessSessionId: null,
      spawn: () => {
        const child = spawn(process.execPath, ["-e", fake], { stdio: "pipe" });
        // What Hangar's side read of the CLI's stdout, next to the adapter's own reader.
        child.stdout.on("data", (chunk: Buffer) => (read += chunk.length));
        return child;
      },
    });
    cleanups.push(() => session.close());
    const summary = await session.turn({
      text: "hi",
      emit: async () => undefined,
      signal: new AbortController().signal,
    });
    expect(summary.finish).toBe("error");
    expect(summary.error).toMatch(/Hangar stopped it: it wrote a line longer than 16 MiB to stdout/);
    expect(read).toBeGreaterThan(CLAUDE_SDK_LINE_MAX);
    expect(read).toBeLessThan(CLAUDE_SDK_LINE_MAX + 4 * MiB);
  }, 30_000);
});
