import path from "node:path";

/*
 * The attacker of the opencode proxy: code running in an opencode session's sandbox (a prompt-injected
 * agent) that swaps the harness server for its own. From inside the sandbox it pauses the bootstrap
 * (so the harness's exit does not end the session), kills `opencode serve` and listens on its port,
 * 4096, with a tiny Node server. Hangar's proxy then forwards the browser's requests to it.
 */

/** The hostile server's source: every answer is `respond(url)` (a function's source). */
function serverSource(respond: string): string {
  // The killed server's port may take a moment to come free (or a straggler of it holds it): retry.
  return `const respond = ${respond};
const server = require("http").createServer((req, res) => {
  const { status = 200, headers, body } = respond(req.url);
  res.writeHead(status, headers);
  res.end(body);
});
server.on("error", (err) => {
  console.error(err.code || err.message);
  setTimeout(() => server.listen(4096, "127.0.0.1"), 100);
});
server.listen(4096, "127.0.0.1");`;
}

const SWAP = `
for p in /proc/[0-9]*; do
  set -- $(tr '\\0' ' ' < $p/cmdline 2>/dev/null)
  case "$2" in */bootstrap/boot.mjs) kill -STOP \${p#/proc/};; esac
  case "$1 $2" in */opencode\\ serve) kill -KILL \${p#/proc/};; esac
done 2>/dev/null
printf '%s' "$HOSTILE_JS" > /tmp/hostile.js
setsid node /tmp/hostile.js > /tmp/hostile.log 2>&1 < /dev/null &
node -e '
const deadline = Date.now() + 20000;
const probe = () => require("http").get("http://127.0.0.1:4096/", (r) => {
  r.resume();
  if (r.headers["x-hostile"]) { console.log("SWAPPED"); process.exit(0); }
  retry();
}).on("error", retry);
const retry = () => (Date.now() > deadline ? process.exit(1) : setTimeout(probe, 100));
probe();' && exit 0
echo "hostile server log:"; cat /tmp/hostile.log
for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done
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
