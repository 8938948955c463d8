import type { IncomingMessage, ServerResponse } from "node:http";

import type { LogOptions } from "./http";
import type { ContainerRun, LogLine } from "./pod-run";

/*
 * Container logs as the kubelet keeps them: the process's output in whole lines, each with the time it
 * arrived, served to the API server's pod log endpoint (tail, since, timestamps, follow).
 */

/** Adds a container's output; a line without its newline yet waits for the rest. */
export function appendLog(c: ContainerRun, stream: "stdout" | "stderr", text: string) {
  const parts = (c.partial[stream] + text).split("\n");
  c.partial[stream] = parts.pop()!;
  for (const part of parts) {
    const line = { time: new Date(), text: part + "\n" };
    c.lines.push(line);
    c.events.emit("line", line);
  }
}

/** Writes a started container's log to `res`; following, until it ends or the client goes. */
export function writeLog(
  container: ContainerRun,
  options: LogOptions,
  res: ServerResponse,
  req: IncomingMessage,
) {
  const since = options.sinceSeconds === undefined ? 0 : Date.now() - options.sinceSeconds * 1000;
  let lines = container.lines.filter((l) => l.time.getTime() >= since);
  if (options.tailLines !== undefined) lines = options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
  const format = (l: LogLine) =>
    (options.timestamps ? `${l.time.toISOString().replace("Z", "000000Z")} ` : "") + l.text;
  res.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked" });
  for (const l of lines) res.write(format(l));
  if (!options.follow || container.state === "terminated") {
    res.end();
    return;
  }
  const onLine = (l: LogLine) => res.write(format(l));
  const onEnd = () => res.end();
  container.events.on("line", onLine);
  container.events.once("end", onEnd);
  const detach = () => {
    container.events.off("line", onLine);
    container.events.off("end", onEnd);
  };
  req.on("close", detach);
  res.on("close", detach);
}
