// The bootstrap every sandbox runs as its main process, whatever the driver: write the files, clone
// the repository, install Python requirements, then start the harness and report each phase.
// Plain JavaScript with no dependencies: it runs on the host's Node, read-only, inside the sandbox.
//
// Two processes, so that whatever ever held the spec is gone before untrusted code runs:
// - `boot.mjs` (the main process, for the session's life) never reads the spec. It starts
//   `boot.mjs --stage prepare` with its stdin passed through, waits for it to exit, then installs
//   the requirements (pip runs package code) and starts the harness.
// - `--stage prepare` reads the JSON spec (see lib/sandbox/boot/spec.ts) from stdin, or from the file
//   HANGAR_SPEC_FILE names (Kubernetes: copied from the session's Secret; deleted once read), writes
//   the files, clones with GIT_TOKEN, and leaves the harness's plan and environment file (no
//   GIT_TOKEN) in the private memory-backed folder HANGAR_PRIVATE (default /run/hangar/private). Then
//   it exits, with the token and the spec.
//
// Warm sandboxes (a pool's, booted before any session wants them): the spec is generic (the harness
// and nothing agent-specific), so the main process starts the harness at once, reports `ready`, makes
// the FIFO bind.fifo in the private folder and starts a second prepare stage (`--stage bind`, the same
// code) that blocks reading the
// session's spec from it. The host writes the spec into the FIFO when a session claims the sandbox
// (lib/sessions/pool.ts); that stage writes the files, clones and leaves the new environment file, as
// above, and the main process then installs the requirements and reports `ready` again. Programs the
// harness runs later get the session's environment through BASH_ENV (the environment file).
//
// Status: one JSON line per phase on the fd HANGAR_STATUS_FD names (the driver's host-only status
// file), or on stdout, marked, with HANGAR_STATUS_STDOUT=1 (Kubernetes: the driver picks them out of
// the pod's log). The host takes them as hints and checks for itself. The working directory is the
// workspace, where the repository is cloned.

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const started = Date.now();
const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const stage = flag("--stage") ?? "main";
const privateDir = process.env.HANGAR_PRIVATE || "/run/hangar/private";
const planFile = path.join(privateDir, "plan.json");

// The status channel. The main process reopens the fd it was given as a close-on-exec copy and closes
// the original, so no program it starts inherits it; it hands the prepare stage its copy as fd 3.
const statusToStdout = process.env.HANGAR_STATUS_STDOUT === "1" || args.includes("--status-stdout");
let statusFd = null;
const givenFd = flag("--status-fd") ?? process.env.HANGAR_STATUS_FD;
if (givenFd !== undefined && /^\d+$/.test(givenFd)) {
  if (stage === "main") {
    try {
      statusFd = fs.openSync(`/proc/self/fd/${givenFd}`, "a");
      fs.closeSync(Number(givenFd));
    } catch {
      statusFd = Number(givenFd); // no /proc: keep the inherited one
    }
  } else statusFd = Number(givenFd);
}
for (const name of ["HANGAR_STATUS_STDOUT", "HANGAR_STATUS_FD", "HANGAR_SPEC_FILE"]) {
  if (stage === "main" && name === "HANGAR_SPEC_FILE") continue; // handed on below
  delete process.env[name];
}

// A line of its own each: one write.
function report(event) {
  const line = JSON.stringify({ ...event, at: Date.now() - started });
  if (statusFd !== null) fs.writeSync(statusFd, line + "\n");
  if (statusToStdout) fs.writeSync(1, `\n\u001eHANGAR-STATUS ${line}\n`);
}

function fail(phase, reason, detail) {
  report({ type: "failed", phase, reason, detail: detail ? tail(detail, 20) : undefined });
  process.exit(1);
}

function tail(text, lines) {
  return String(text).trimEnd().split("\n").slice(-lines).join("\n");
}

function expandHome(p, home) {
  return p === "~" ? home : p.startsWith("~/") ? path.join(home, p.slice(2)) : p;
}

/** Runs a command to completion; resolves with its exit code and combined output. */
function run(argv, options) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk) => {
      output = (output + chunk.toString()).slice(-64 * 1024);
      process.stdout.write(chunk);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (err) => resolve({ code: 127, output: output + String(err.message) }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

// ---------------------------------------------------------------------------------------------------
// The prepare stage: holds the spec and the token, exits before anything untrusted runs.

/** All of stdin (a pipe from the host), up to its end. */
function readStdin() {
  const chunks = [];
  const buffer = Buffer.alloc(64 * 1024);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, buffer, 0, buffer.length, null);
    } catch (err) {
      if (err.code === "EAGAIN") continue;
      if (err.code === "EOF") break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString("utf8");
}

function readSpec() {
  const fifo = flag("--spec-fifo");
  if (fifo) {
    // Blocks until the host writes the session's spec (and closes its end).
    const text = fs.readFileSync(fifo, "utf8");
    fs.rmSync(fifo, { force: true });
    if (!text.trim()) throw new Error("no boot spec in the bind FIFO");
    return JSON.parse(text);
  }
  const file = flag("--spec-file");
  if (!file) {
    const text = readStdin();
    if (!text.trim()) throw new Error("no boot spec on stdin");
    return JSON.parse(text);
  }
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } finally {
    fs.rmSync(file, { force: true });
  }
}

// Harness config files name the sandbox's own paths, which only the sandbox knows (they differ by
// driver): `template: true` files get {{HOME}}, {{WORKSPACE}} and {{PRIVATE}} (the private folder) filled in.
function fileBytes(file, home) {
  const bytes = Buffer.from(file.content, "base64");
  if (!file.template) return bytes;
  return bytes
    .toString("utf8")
    .replaceAll("{{HOME}}", home)
    .replaceAll("{{WORKSPACE}}", process.cwd())
    .replaceAll("{{PRIVATE}}", privateDir);
}

function writeFiles(files, home) {
  for (const file of files) {
    const target = expandHome(file.path, home);
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, fileBytes(file, home), { mode: file.mode ?? 0o644 });
    } catch (err) {
      const where =
        err.code === "EROFS" || err.code === "EACCES"
          ? " (read-only in this sandbox: use a path under ~/ or /tmp)"
          : "";
      fail("writing_files", `could not write ${file.path}: ${err.code ?? err.message}${where}`);
    }
  }
}

function cloneFailure(output, repo) {
  const host = (() => {
    try {
      return new URL(repo.url).host;
    } catch {
      return repo.url;
    }
  })();
  if (/Remote branch .* not found|couldn't find remote ref/i.test(output)) {
    return `clone failed: branch "${repo.branch}" does not exist in ${repo.url}`;
  }
  if (/Authentication failed|could not read Username|terminal prompts disabled|\b401\b/i.test(output)) {
    return `clone failed: ${host} refused the credentials (set GIT_TOKEN for a private repository)`;
  }
  // The egress proxy answers 403 for a policy refusal and 502 when the host cannot be resolved or reached.
  if (/CONNECT tunnel failed, response 50\d|\b502\b/i.test(output)) {
    return `clone failed: ${host} could not be reached (the name does not resolve or the connection failed)`;
  }
  if (/CONNECT tunnel failed|\b403\b/i.test(output)) return `clone failed: egress to ${host} was refused`;
  if (/not found|\b404\b/i.test(output)) return `clone failed: ${repo.url} was not found`;
  return `clone failed: git exited with an error`;
}

async function cloneRepo(repo, home, env) {
  report({ type: "phase", phase: "cloning_repo", detail: `${repo.url} @ ${repo.branch}` });
  const workspace = process.cwd();
  const cloneEnv = { ...env, GIT_TERMINAL_PROMPT: "0" };
  // The helper holds no secret: the token reaches git through its environment only (never argv,
  // never .git/config), and only this stage's children have it.
  const askpass = path.join(home, ".hangar", "askpass.sh");
  if (repo.token) {
    fs.mkdirSync(path.dirname(askpass), { recursive: true, mode: 0o700 });
    fs.writeFileSync(
      askpass,
      '#!/bin/sh\ncase "$1" in Username*) echo x-access-token;; *) echo "$HANGAR_GIT_TOKEN";; esac\n',
      { mode: 0o700 },
    );
    Object.assign(cloneEnv, { GIT_ASKPASS: askpass, HANGAR_GIT_TOKEN: repo.token });
  }
  const clone = (depth) =>
    run(["git", "clone", ...depth, "--branch", repo.branch, "--", repo.url, workspace], {
      env: cloneEnv,
      cwd: home,
    });
  let result = await clone(["--depth", "1"]);
  // Servers that speak only git's "dumb" HTTP protocol cannot serve a shallow clone: take it all.
  if (result.code !== 0 && /does not support shallow/.test(result.output)) result = await clone([]);
  if (repo.token) {
    fs.rmSync(askpass, { force: true });
    try {
      fs.rmdirSync(path.dirname(askpass));
    } catch {
      // Not empty: something else lives there.
    }
  }
  if (result.code !== 0) fail("cloning_repo", cloneFailure(result.output, repo), result.output);
}

// Later programs started in the sandbox (a TUI in Hangar's terminal, the SDK's CLI, a user's shell)
// get the same environment by sourcing this file. It lives in the private tmpfs: memory, not disk.
function envFile(env) {
  const quote = (value) => `'${String(value).replaceAll("'", `'\\''`)}'`;
  const lines = Object.entries(env)
    .filter(([key]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
    .map(([key, value]) => `export ${key}=${quote(value)}`);
  return lines.join("\n") + "\n";
}

function writePrivate(name, text) {
  fs.writeFileSync(path.join(privateDir, name), text, { mode: 0o600 });
}

async function prepare() {
  const home = process.env.HOME;
  const spec = readSpec();
  const env = { ...process.env, ...spec.env };
  try {
    fs.mkdirSync(privateDir, { recursive: true, mode: 0o700 });
    fs.accessSync(privateDir, fs.constants.W_OK);
    // A Kubernetes emptyDir starts world-writable; only its owner may narrow it.
    try {
      fs.chmodSync(privateDir, 0o700);
    } catch {
      // Not ours to change.
    }
  } catch (err) {
    fail(
      "boot",
      `no private folder for the harness's environment at ${privateDir}: ${err.code ?? err.message}`,
    );
  }
  // Files go first (a CA certificate or SSH config may be needed for the clone), except those inside
  // the workspace: git clones into an empty folder, so they overlay the checkout afterwards.
  const workspace = process.cwd() + path.sep;
  const inWorkspace = (f) => expandHome(f.path, home).startsWith(workspace);
  report({ type: "phase", phase: "writing_files", detail: `${spec.files.length} file(s)` });
  writeFiles(
    spec.files.filter((f) => !inWorkspace(f)),
    home,
  );
  if (spec.repo) await cloneRepo(spec.repo, home, env);
  writeFiles(spec.files.filter(inWorkspace), home);
  const venvBin = path.join(home, ".venv", "bin");
  const PATH = spec.requirements ? `${venvBin}:${env.PATH}` : env.PATH;
  if (spec.requirements) writePrivate("requirements.txt", spec.requirements);
  writePrivate("env.sh", envFile({ ...spec.env, PATH }));
  // Harness configs name the model token by this file ({file:…}), so a harness started before the
  // session existed (warm) reads the session's token when it first loads its config.
  writePrivate("model-token", spec.env.LITELLM_API_KEY ?? "");
  // What the main process needs to go on; the spec's env is the harness's (GIT_TOKEN is not in it).
  const plan = {
    env: spec.env,
    requirements: Boolean(spec.requirements),
    harness: spec.harness,
    warm: spec.warm === true,
  };
  writePrivate("plan.json", JSON.stringify(plan));
}

// ---------------------------------------------------------------------------------------------------
// The main process: never sees the spec.

/** Runs the prepare stage with this process's stdin; resolves once it has exited. */
function runPrepare(fifo) {
  const self = fileURLToPath(import.meta.url);
  const specFile = fifo ? undefined : process.env.HANGAR_SPEC_FILE;
  delete process.env.HANGAR_SPEC_FILE;
  const argv = [self, "--stage", fifo ? "bind" : "prepare"];
  if (statusFd !== null) argv.push("--status-fd", "3");
  if (statusToStdout) argv.push("--status-stdout");
  if (specFile) argv.push("--spec-file", specFile);
  if (fifo) argv.push("--spec-fifo", fifo);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, {
      stdio: [specFile || fifo ? "ignore" : "inherit", "inherit", "inherit", statusFd ?? "ignore"],
    });
    child.on("error", (err) => resolve({ code: 127, error: err }));
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
}

// Ready once the harness's health endpoint answers 200: a listening port alone is not enough (opencode
// accepts connections about a second before it answers them).
function waitForHttp(ready, env, child) {
  const deadline = Date.now() + ready.timeoutMs;
  const headers = {};
  if (ready.user) {
    const password = ready.passwordEnv ? (env[ready.passwordEnv] ?? "") : "";
    headers.authorization = "Basic " + Buffer.from(`${ready.user}:${password}`).toString("base64");
  }
  return new Promise((resolve) => {
    const retry = () => (Date.now() > deadline ? resolve(false) : setTimeout(attempt, 25));
    const attempt = () => {
      if (child.exitCode !== null) return resolve(false);
      const req = http.get(
        { host: "127.0.0.1", port: ready.port, path: ready.path, headers, timeout: 1000 },
        (res) => {
          res.resume();
          if (res.statusCode === 200) resolve(true);
          else retry();
        },
      );
      req.on("timeout", () => req.destroy());
      req.on("error", retry);
    };
    attempt();
  });
}

async function installRequirements(home, env) {
  report({ type: "phase", phase: "installing_deps" });
  const venv = path.join(home, ".venv");
  const made = await run(["python3", "-m", "venv", venv], { env, cwd: home });
  if (made.code !== 0) fail("installing_deps", "could not create a Python virtual environment", made.output);
  const pip = await run(
    [
      path.join(venv, "bin", "pip"),
      "install",
      "--disable-pip-version-check",
      "--no-input",
      "-r",
      path.join(privateDir, "requirements.txt"),
    ],
    { env, cwd: process.cwd() },
  );
  if (pip.code !== 0) {
    const missing = /No matching distribution found for ([^\s]+)/.exec(pip.output);
    const reason = missing
      ? `pip failed: no package matches ${missing[1]}`
      : "pip failed: see the sandbox logs";
    fail("installing_deps", reason, pip.output);
  }
}

/** Starts the harness and resolves once it answers (exits the sandbox if it never does). */
async function startHarness(harness, env) {
  report({ type: "phase", phase: "starting_harness", detail: harness.argv[0] });
  const child = spawn(harness.argv[0], harness.argv.slice(1), {
    env,
    cwd: harness.cwd,
    stdio: ["ignore", "inherit", "inherit"],
  });
  let spawnError = null;
  child.on("error", (err) => (spawnError = err));
  const forward = (signal) => () => child.kill(signal);
  process.on("SIGTERM", forward("SIGTERM"));
  process.on("SIGINT", forward("SIGINT"));
  // The harness ending ends the sandbox, whenever it happens (also while a warm one waits).
  child.on("exit", (code, signal) => {
    report({ type: "exited", code, signal });
    process.exit(code ?? 1);
  });

  if (harness.ready.kind === "http") {
    const up = await waitForHttp(harness.ready, env, child);
    if (!up) {
      const { code } = child.exitCode !== null ? { code: child.exitCode } : { code: null };
      fail(
        "starting_harness",
        spawnError
          ? `harness could not start: ${spawnError.message}`
          : `harness did not answer on port ${harness.ready.port}${code !== null ? ` (exited with ${code})` : ""}`,
      );
    }
  } else if (harness.ready.kind === "command") {
    const check = await run(harness.ready.argv, { env, cwd: harness.cwd });
    if (check.code !== 0)
      fail("starting_harness", `harness check failed: ${harness.ready.argv.join(" ")}`, check.output);
  }
}

/** Runs the prepare stage and reads the plan it left; exits when the stage failed. */
async function prepareAndPlan(fifo) {
  const prepared = await runPrepare(fifo);
  // The prepare stage reported why it stopped (exit 1); a crash it could not report is said here.
  if (prepared.code === 1) process.exit(1);
  if (prepared.code !== 0) {
    const why =
      prepared.error?.message ?? (prepared.signal ? `killed by ${prepared.signal}` : `exit ${prepared.code}`);
    fail("boot", `bootstrap crashed: the prepare stage ended (${why})`);
  }
  const plan = JSON.parse(fs.readFileSync(planFile, "utf8"));
  fs.rmSync(planFile, { force: true });
  return plan;
}

/** The FIFO a warm sandbox's session spec arrives through (see the header). */
function makeBindFifo() {
  const fifo = path.join(privateDir, "bind.fifo");
  fs.rmSync(fifo, { force: true });
  const made = spawnSync("mkfifo", ["-m", "600", fifo]);
  if (made.status !== 0) fail("boot", `could not make the bind FIFO: ${String(made.stderr).trim()}`);
  return fifo;
}

async function main() {
  const home = process.env.HOME;
  const plan = await prepareAndPlan();
  const env = { ...process.env, ...plan.env };
  // Shells the harness starts (its command tool) read the session's environment file, which a warm
  // sandbox only gets when it is claimed.
  env.BASH_ENV = path.join(privateDir, "env.sh");
  if (!env.SHELL && fs.existsSync("/bin/bash")) env.SHELL = "/bin/bash";
  if (plan.requirements) await installRequirements(home, env);
  if (plan.requirements) env.PATH = `${path.join(home, ".venv", "bin")}:${env.PATH}`;
  await startHarness(plan.harness, env);
  if (plan.warm) {
    const fifo = makeBindFifo();
    report({ type: "ready" });
    const bound = await prepareAndPlan(fifo);
    if (bound.requirements) await installRequirements(home, { ...env, ...bound.env });
  }
  report({ type: "ready" });
}

if (stage === "prepare" || stage === "bind") {
  prepare().then(
    () => process.exit(0),
    (err) => fail("boot", `bootstrap crashed: ${err.message}`),
  );
} else {
  main().catch((err) => fail("boot", `bootstrap crashed: ${err.message}`));
}
