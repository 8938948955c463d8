/*
 * Bounded buffers, attacked from inside a real sandbox: the built-in model (no LITELLM_API_BASE)
 * reads at most BUILTIN_MODEL_BODY_MAX of a body and answers BUILTIN_MODEL_IN_FLIGHT_PER_SESSION
 * requests of one session at a time. A sandbox that sends bodies far over the cap gets 413 and
 * Hangar's memory (VmRSS of the server process) does not grow with them; a sandbox that opens many
 * requests at once gets 429s past its share while Hangar's own API stays fast. The harness-socket
 * bounds (opencode's answers and events, the SDK CLI's stdout) are lib/harness/bounds.test.ts.
 */
import fs from "node:fs";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { BUILTIN_MODEL_BODY_MAX, BUILTIN_MODEL_IN_FLIGHT_PER_SESSION } from "@/lib/bounds";

import { callServer } from "../support/api";
import { inSandbox, readySession, sandboxModelEnv, SESSIONS } from "../support/sandbox";
import { startServer, type TestServer } from "../support/server";

const MiB = 1024 * 1024;

let hangar: TestServer;
let sessionId = "";
let base = "";
let token = "";

const call = (method: string, p: string, body?: unknown) => callServer(hangar, method, p, body);

const inside = (script: string) => inSandbox(hangar, sessionId, script, 90_000);

/** The server process's resident memory, from the host's /proc. */
function rssBytes(): number {
  const status = fs.readFileSync(`/proc/${hangar.proc.pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
}

beforeAll(async () => {
  hangar = await startServer({});
  sessionId = await readySession(hangar);
  ({ base, token } = await sandboxModelEnv(hangar, sessionId));
}, 180_000);

afterAll(async () => {
  if (sessionId) await call("DELETE", `${SESSIONS}/${sessionId}`).catch(() => undefined);
  await hangar?.stop();
});

describe("bounded buffers, from inside the sandbox (built-in model)", () => {
  it("a body far over the cap gets 413, and the server's memory does not grow with it", async () => {
    const size = 64 * MiB;
    expect(size).toBeGreaterThan(4 * BUILTIN_MODEL_BODY_MAX);
    const curl = (extra: string) =>
      `curl -s --noproxy '*' -m 60 -o /dev/null -w '%{http_code}' -X POST ` +
      `-H "Authorization: Bearer ${token}" -H 'content-type: application/json' ${extra} ` +
      `"${base}/v1/chat/completions"`;
    await inside(`head -c ${size} /dev/zero | tr '\\0' ' ' > /tmp/big`);
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssBytes();
    // Three at once with a length, then one streamed (chunked, no length).
    const out = await inside(
      [
        ...[1, 2, 3].map((n) => `(${curl("-T /tmp/big")}; echo " exit=$?") > /tmp/declared-${n} &`),
        "wait",
        "cat /tmp/declared-*",
        `${curl("-H 'Transfer-Encoding: chunked' -H 'Expect:' -T - < /tmp/big")}; echo " exit=$?"`,
      ].join("\n"),
    );
    const lines = out.stdout.trim().split("\n");
    expect(lines.slice(0, 3), out.stderr).toEqual(Array(3).fill("413 exit=0"));
    // The streamed one is cut off at the cap: curl may see the closed connection before the 413,
    // so the built-in model's own log says what it answered.
    expect(lines[3], out.stderr).not.toMatch(/^200/);
    const logged = await call("GET", `/api/v1/model_gateway/requests?session_id=${sessionId}`);
    expect(logged.body.data.map((r: { status: number }) => r.status)).toEqual([413]);
    const grown = rssBytes() - before;
    expect(grown, `VmRSS grew by ${(grown / MiB).toFixed(1)} MiB`).toBeLessThan(3 * BUILTIN_MODEL_BODY_MAX);
    // The model still answers an ordinary request.
    const ok = await inside(
      `curl -s --noproxy '*' -m 20 -H "Authorization: Bearer ${token}" -H 'content-type: application/json' ` +
        `--data '{"model":"m","messages":[{"role":"user","content":"REPLY: still here"}]}' ` +
        `"${base}/v1/chat/completions"`,
    );
    expect(ok.stdout, ok.stderr).toContain("still here");
  }, 120_000);

  it("many parallel requests get 429 past the session's share, and Hangar's API stays fast", async () => {
    const parallel = 3 * BUILTIN_MODEL_IN_FLIGHT_PER_SESSION;
    const body = JSON.stringify({
      model: "m",
      stream: true,
      messages: [{ role: "user", content: "SLOW: 400\nREPLY: one two three four" }],
    });
    const flood = inside(
      [
        `printf '%s' '${body}' > /tmp/slow.json`,
        `for i in $(seq ${parallel}); do`,
        `  curl -s --noproxy '*' -m 30 -o /dev/null -w '%{http_code}\\n' -H "Authorization: Bearer ${token}" ` +
          `-H 'content-type: application/json' --data @/tmp/slow.json "${base}/v1/chat/completions" &`,
        "done",
        "wait",
      ].join("\n"),
    );
    await new Promise((r) => setTimeout(r, 600));
    const started = Date.now();
    const health = await fetch(`${hangar.url}/api/v1/health`);
    const healthMs = Date.now() - started;
    expect(health.status).toBe(200);
    expect(healthMs).toBeLessThan(1000);
    const out = await flood;
    const codes = out.stdout.trim().split("\n").sort();
    expect(codes, out.stderr).toHaveLength(parallel);
    expect(codes.filter((c) => c === "200")).toHaveLength(BUILTIN_MODEL_IN_FLIGHT_PER_SESSION);
    expect(codes.filter((c) => c === "429")).toHaveLength(parallel - BUILTIN_MODEL_IN_FLIGHT_PER_SESSION);
  }, 120_000);
});
