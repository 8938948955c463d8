// Joins this process's stdin and stdout to a PTY holder's Unix socket, so a client outside the
// sandbox can speak frames.mjs through an exec stream (the Kubernetes driver attaches this way).
// Usage: node relay.mjs <socket path>. Exits when either side closes.

import net from "node:net";

const socket = net.connect(process.argv[2]);
socket.on("error", (err) => {
  process.stderr.write(`pty-relay: ${err.message}\n`);
  process.exit(1);
});
socket.on("close", () => process.exit(0));
process.stdin.on("end", () => socket.end());
process.stdin.pipe(socket);
socket.pipe(process.stdout);
