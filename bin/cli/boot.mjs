// @ts-check
// Boot progress: polling a new session until it leaves `creating`, with its phases on stderr.

import { request } from "./api.mjs";
import { ApiError, CliError } from "./errors.mjs";
import { err } from "./output.mjs";

/** @typedef {import("./api.mjs").Config} Config */
/** @typedef {import("./api.mjs").Session} Session */

const POLL_MS = 250;
const PHASE_ORDER = [
  "creating_sandbox",
  "writing_files",
  "cloning_repo",
  "installing_deps",
  "starting_harness",
  "ready",
];
const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * The phases done so far with their durations, in boot order.
 * @param {Session} session
 */
function phaseSummary(session) {
  const timings = session.timings ?? {};
  return PHASE_ORDER.filter((p) => typeof timings[p] === "number").map((p) => `${p} ${timings[p]} ms`);
}

/**
 * Polls the session every 250 ms until it leaves `creating`, showing its phases as it goes.
 * @param {Config} config
 * @param {Session} session
 * @param {{ label: string, timeoutMs: number }} options
 * @returns {Promise<Session>} the session once ready; throws CliError when it failed or timed out
 */
export async function waitForBoot(config, session, { label, timeoutMs }) {
  const tty = Boolean(process.stderr.isTTY);
  const started = Date.now();
  let frame = 0;
  /** @type {string | null} */
  let lastPhase = null;
  let current = session;
  let failures = 0;
  const draw = () => {
    const elapsed = Date.now() - started;
    const done = phaseSummary(current);
    const phase = current.phase && !(current.phase in (current.timings ?? {})) ? current.phase : null;
    const steps = [...done, ...(phase && phase !== "ready" ? [`${phase} …`] : [])].join(" › ");
    let line = `${SPINNER[frame++ % SPINNER.length]} Starting ${label} · ${steps || "queued"} · ${elapsed} ms`;
    const width = (process.stderr.columns || 100) - 1;
    if (line.length > width) line = line.slice(0, width - 1) + "…";
    process.stderr.write(`\r\x1b[2K${line}`);
  };
  const clear = () => tty && process.stderr.write("\r\x1b[2K");
  const onSigint = () => {
    clear();
    err(`Interrupted. Session ${session.id} keeps starting.`);
    err(`  Attach: hangar attach ${session.id}`);
    err(`  Stop:   hangar stop ${session.id}`);
    process.exit(130);
  };
  process.on("SIGINT", onSigint);
  try {
    if (!tty) err(`Starting ${label}: session ${session.id}`);
    for (;;) {
      if (tty) draw();
      else if (current.phase && current.phase !== lastPhase) {
        err(`  ${String(Date.now() - started).padStart(6)} ms  ${current.phase}`);
        lastPhase = current.phase;
      }
      if (current.status !== "creating") break;
      if (Date.now() - started > timeoutMs) {
        clear();
        throw new CliError(
          `Session ${session.id} is still starting after ${Math.round(timeoutMs / 1000)} s ` +
            `(phase ${current.phase ?? "unknown"}). Follow it with: hangar attach ${session.id}`,
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
      try {
        current = await request(config, "GET", `/sessions/${encodeURIComponent(session.id)}`);
        failures = 0;
      } catch (e) {
        if (e instanceof ApiError || ++failures >= 5) {
          clear();
          throw e;
        }
      }
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
  const elapsed = Date.now() - started;
  const steps = phaseSummary(current);
  clear();
  if (current.status === "ready") {
    err(`✓ Ready in ${elapsed} ms${steps.length ? ` (${steps.join(", ")})` : ""}`);
    return current;
  }
  const where = current.phase ? ` during ${current.phase}` : "";
  throw new CliError(
    `✗ Session ${session.id} ${current.status}${where} after ${elapsed} ms: ` +
      (current.failure_reason || current.phase_detail || "no reason given"),
  );
}
