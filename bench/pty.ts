/*
 * Terminals: what Hangar adds to a keystroke's echo, and how fast output flows, every byte checked.
 *
 *   npm run bench:pty        BENCH_KEYS (500), BENCH_OUTPUT_LINES (2,000,000 lines of `seq`, ~15 MB)
 *
 * Through Hangar: a WebSocket on /sessions/{id}/tty?terminal=shell of a session on the local driver,
 * so each byte goes client → WebSocket → server → PTY holder → PTY → program in the sandbox and back.
 * Directly: a PTY opened here with node-pty running the same program. The program is `cat` with the
 * terminal in raw mode (`stty raw -echo`): one byte in, the same byte out. Keystrokes are sent one at
 * a time, each after the previous echo arrived. Output throughput is `seq 1 N` through the same
 * path, compared byte for byte with what `seq` prints. Prints one JSON object; also writes
 * bench/results/pty-<timestamp>.json.
 */
import fs from "node:fs";
import path from "node:path";

import pty from "@lydell/node-pty";
import { WebSocket } from "ws";

import { startServer } from "../e2e/support/server";

const KEYS = Number(process.env.BENCH_KEYS ?? 500);
const LINES = Number(process.env.BENCH_OUTPUT_LINES ?? 2_000_000);
const TARGETS = { added_p50_ms_max: 3, throughput_mb_s_min: 5 };

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
};
const round = (x: number) => Math.round(x * 1000) / 1000;
const note = (msg: string) => process.stderr.write(`[bench:pty] ${msg}\n`);

type Channel = {
  write: (s: string) => void;
  onData: (fn: (chunk: Buffer) => void) => void;
  close: () => void;
};

function expectedSeq(n: number): string {
  const parts: string[] = [];
  for (let i = 1; i <= n; i++) parts.push(String(i));
  return parts.join("\n") + "\n";
}

/**
 * Waits until the output contains `marker`; returns what came before it. Chunks are kept in a list and
 * only the newest bytes are searched, so megabytes of output cost linear time.
 */
function collector(channel: Channel) {
  let chunks: Buffer[] = [];
  let size = 0;
  let tail: Buffer = Buffer.alloc(0); // the last bytes already searched, for a marker split across chunks
  let waiter: { marker: Buffer; resolve: (before: Buffer) => void } | null = null;
  const found = (at: number) => {
    const all = Buffer.concat(chunks, size);
    const { marker, resolve } = waiter!;
    const rest = all.subarray(at + marker.length);
    chunks = rest.length ? [rest] : [];
    size = rest.length;
    tail = Buffer.alloc(0);
    waiter = null;
    resolve(all.subarray(0, at));
  };
  const search = (fresh: Buffer, freshStart: number) => {
    if (!waiter) return;
    const window = Buffer.concat([tail, fresh]);
    const at = window.indexOf(waiter.marker);
    if (at >= 0) return found(freshStart - tail.length + at);
    tail = window.subarray(Math.max(0, window.length - waiter.marker.length + 1));
  };
  channel.onData((chunk) => {
    chunks.push(chunk);
    size += chunk.length;
    search(chunk, size - chunk.length);
  });
  return {
    until(marker: string, timeoutMs = 60_000): Promise<Buffer> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${JSON.stringify(marker)}`)),
          timeoutMs,
        );
        waiter = {
          marker: Buffer.from(marker),
          resolve: (before) => {
            clearTimeout(timer);
            resolve(before);
          },
        };
        tail = Buffer.alloc(0);
        if (size > 0) search(Buffer.concat(chunks, size), 0);
      });
    },
    reset: () => {
      chunks = [];
      size = 0;
      tail = Buffer.alloc(0);
    },
  };
}

async function measure(channel: Channel) {
  const out = collector(channel);
  // A shell first: raw mode and no echo, then dd copies exactly KEYS bytes back, one write(2) each.
  channel.write(`stty raw -echo; printf 'GO\\n'; dd bs=1 count=${KEYS} status=none; stty sane\r`);
  await out.until("GO\n");
  out.reset();
  const alphabet = "abcdefghijklmnopqrstuvwxyz";
  const echo: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    const key = alphabet[i % alphabet.length]!;
    const started = performance.now();
    channel.write(key);
    await out.until(key);
    echo.push(performance.now() - started);
  }
  // Output: seq between markers, with output processing off so the bytes arrive exactly as printed.
  channel.write(`stty -opost; printf '\\033[1;2;3mBEGIN\\n'; seq 1 ${LINES}; printf 'END\\033[3;2;1m'\r`);
  await out.until("\x1b[1;2;3mBEGIN\n");
  const started = performance.now();
  const body = await out.until("END\x1b[3;2;1m", 300_000);
  const seconds = (performance.now() - started) / 1000;
  const expected = expectedSeq(LINES);
  const intact = body.toString("latin1") === expected;
  return {
    echo_ms: { p50: round(pct(echo, 50)), p99: round(pct(echo, 99)), n: echo.length },
    echo,
    output: {
      bytes: body.length,
      expected_bytes: expected.length,
      intact,
      mb_per_s: round(body.length / 1e6 / seconds),
    },
  };
}

function directChannel(): Channel {
  const term = pty.spawn("bash", ["--norc", "--noprofile"], {
    name: "xterm-256color",
    cols: 120,
    rows: 32,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "xterm-256color", PS1: "$ " },
    encoding: null,
  });
  return {
    write: (s) => term.write(s),
    onData: (fn) => term.onData((d) => fn(Buffer.from(d as unknown as Uint8Array))),
    close: () => term.kill(),
  };
}

async function hangarChannel(url: string, key: string): Promise<Channel> {
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${key}` } });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  socket.send(JSON.stringify({ type: "resize", cols: 120, rows: 32 }));
  return {
    write: (s) => socket.send(s),
    onData: (fn) => socket.on("message", (data, isBinary) => isBinary && fn(data as Buffer)),
    close: () => socket.close(),
  };
}

async function main() {
  const server = await startServer({ env: { LOG_LEVEL: "warn" } });
  const headers = { authorization: `Bearer ${server.masterKey}`, "content-type": "application/json" };
  let sessionId: string | null = null;
  try {
    const agent = await (
      await fetch(`${server.url}/api/v1/managed_agents/agents`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          name: "bench-pty",
          model: "hangar-test-model",
          harness_id: "claude-agent-sdk",
        }),
      })
    ).json();
    const session = await (
      await fetch(`${server.url}/api/v1/managed_agents/agents/${agent.id}/session`, {
        method: "POST",
        headers,
        body: "{}",
      })
    ).json();
    sessionId = session.id as string;
    for (;;) {
      const s = await (
        await fetch(`${server.url}/api/v1/managed_agents/sessions/${sessionId}`, { headers })
      ).json();
      if (s.status === "ready") break;
      if (s.status === "failed") throw new Error(`session failed: ${s.failure_reason}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    note(`session ${sessionId} ready; measuring direct PTY`);
    const directCh = directChannel();
    const direct = await measure(directCh);
    directCh.close();
    note("measuring through Hangar");
    const wsUrl = `${server.url.replace(/^http/, "ws")}/api/v1/managed_agents/sessions/${sessionId}/tty?terminal=shell`;
    const hangarCh = await hangarChannel(wsUrl, server.masterKey);
    const hangar = await measure(hangarCh);
    hangarCh.close();

    const added = {
      p50: round(hangar.echo_ms.p50 - direct.echo_ms.p50),
      p99: round(hangar.echo_ms.p99 - direct.echo_ms.p99),
    };
    const result = {
      bench: "pty",
      at: new Date().toISOString(),
      keys: KEYS,
      output_lines: LINES,
      direct: { echo_ms: direct.echo_ms, output: direct.output },
      hangar: { echo_ms: hangar.echo_ms, output: hangar.output },
      added_echo_ms: added,
      targets: TARGETS,
      met: {
        added_p50: added.p50 <= TARGETS.added_p50_ms_max,
        throughput: hangar.output.intact && hangar.output.mb_per_s >= TARGETS.throughput_mb_s_min,
      },
    };
    const json = JSON.stringify(result, null, 2);
    process.stdout.write(json + "\n");
    const dir = path.join(process.cwd(), "bench", "results");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `pty-${result.at.replace(/[:.]/g, "-")}.json`), json);
  } finally {
    if (sessionId) {
      await fetch(`${server.url}/api/v1/managed_agents/sessions/${sessionId}`, {
        method: "DELETE",
        headers,
      }).catch(() => undefined);
    }
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:pty failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
