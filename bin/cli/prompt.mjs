// @ts-check
// What `hangar login` asks for: a line with a default, a line without echo, or all of stdin.

import readline from "node:readline";

import { CliError } from "./errors.mjs";
import { terminalGuard } from "./terminal.mjs";

/**
 * Asks on stderr and reads one line; an empty answer gives `fallback`.
 * @param {string} question
 * @param {string} [fallback]
 * @returns {Promise<string>}
 */
export function ask(question, fallback) {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve, reject) => {
    rl.on("SIGINT", () => {
      rl.close();
      reject(new CliError("Cancelled", 130));
    });
    rl.question(fallback ? `${question} [${fallback}]: ` : `${question}: `, (answer) => {
      rl.close();
      resolve(answer.trim() || fallback || "");
    });
  });
}

/**
 * Reads a line from the terminal without echoing it.
 * @param {string} question
 * @returns {Promise<string>}
 */
export function askHidden(question) {
  const stdin = process.stdin;
  // Echo goes off before the prompt shows: a key typed or pasted the moment the prompt appears would
  // otherwise be echoed by the terminal before raw mode takes over.
  terminalGuard.track(() => stdin.isTTY && stdin.setRawMode(false));
  stdin.setRawMode(true);
  process.stderr.write(`${question}: `);
  return new Promise((resolve, reject) => {
    let value = "";
    const restore = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          restore();
          return resolve(value.trim());
        }
        if (ch === "\x03" || ch === "\x04") {
          restore();
          return reject(new CliError("Cancelled", 130));
        }
        if (ch === "\x7f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** All of stdin, trimmed: the key when there is no terminal (`echo "$KEY" | hangar login`). */
export async function readStdin() {
  /** @type {Buffer[]} */
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8").trim();
}
