#!/usr/bin/env node
// @ts-check
// The `hangar` command: log in to a Hangar server, list agents and sessions, start a session and
// attach your terminal to its TUI (Codex, Claude Code), detach and reattach, stop it.
//
// Plain JavaScript so it runs with `node` alone; its only dependency is `ws`. The types are JSDoc,
// checked by `npm run typecheck` (bin/tsconfig.json). This file parses the command line; the
// commands are in cli/commands.mjs, the REST API client in cli/api.mjs, attaching in cli/attach.mjs.
//
// The key is read from the config file or HANGAR_KEY and sent only as a Bearer header: it is never
// printed, and every message that reaches the screen passes through redact() as a second guard.
import { parseArgs } from "node:util";

import { commandHelp, COMMANDS, usage } from "./cli/commands.mjs";
import { CliError } from "./cli/errors.mjs";
import { err, out } from "./cli/output.mjs";
import { terminalGuard } from "./cli/terminal.mjs";

process.on("exit", () => terminalGuard.restore());

/**
 * Runs one command line; resolves with the exit code.
 * @param {string[]} argv
 * @returns {Promise<number>}
 */
async function main(argv) {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    const command = rest[0] ? COMMANDS[rest[0]] : undefined;
    if (command) out(commandHelp(command));
    else out(usage());
    return 0;
  }
  if (!name) {
    err(usage());
    return 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(`hangar: unknown command "${name}"\n`);
    err(usage());
    return 2;
  }
  let parsed;
  try {
    // Strict, with the command's own options: the values have the types OptionValues gives them.
    parsed = /** @type {import("./cli/commands.mjs").Parsed} */ (
      parseArgs({
        args: rest,
        options: { ...command.options, help: { type: "boolean", short: "h" } },
        allowPositionals: true,
        strict: true,
      })
    );
  } catch (e) {
    err(`hangar ${name}: ${/** @type {Error} */ (e).message}\n`);
    err(commandHelp(command));
    return 2;
  }
  if (parsed.values.help) {
    out(commandHelp(command));
    return 0;
  }
  const wanted = command.positionals ?? 0;
  if (parsed.positionals.length !== wanted) {
    err(
      parsed.positionals.length < wanted
        ? `hangar ${name}: missing argument\n`
        : `hangar ${name}: unexpected argument "${parsed.positionals[wanted]}"\n`,
    );
    err(commandHelp(command));
    return 2;
  }
  return command.run(parsed);
}

/**
 * Restores the terminal and reports an error; returns the exit code.
 * @param {unknown} e
 */
function fail(e) {
  terminalGuard.restore();
  if (e instanceof CliError) {
    if (e.message) err(`hangar: ${e.message}`);
    return e.exitCode;
  }
  err(`hangar: unexpected error: ${/** @type {Error | undefined} */ (e)?.message ?? String(e)}`);
  return 1;
}

process.on("uncaughtException", (e) => process.exit(fail(e)));
process.on("unhandledRejection", (e) => process.exit(fail(e)));

main(process.argv.slice(2)).then(
  (code) => {
    terminalGuard.restore();
    process.exit(code ?? 0);
  },
  (e) => process.exit(fail(e)),
);
