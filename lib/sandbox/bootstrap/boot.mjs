// The bootstrap every sandbox runs as its main process, whatever the driver: write the files, clone
// the repository, install Python requirements, then start the harness and report each phase.
// Plain JavaScript with no dependencies: it runs on the host's Node, read-only, inside the sandbox.
//
// Input: argv[2] is a JSON spec (see lib/sessions/launch.ts), deleted as soon as it is read since it
// holds the session's secrets. Output: one JSON line per phase appended to argv[3]. Both may start
// with ~/. The working directory is the workspace, where the repository is cloned.

import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const [specPath, statusPath] = process.argv.slice(2);
const started = Date.now();

// Where the host cannot read the sandbox's files (Kubernetes), the status lines also go to stdout,
// marked, and the driver picks them out of the pod's log. A line of their own each: one write.
const statusToStdout = process.env.HANGAR_STATUS_STDOUT === "1";
delete process.env.HANGAR_STATUS_STDOUT;

function report(event) {
  const line = JSON.stringify({ ...event, at: Date.now() - started });
  fs.appendFileSync(expandHome(statusPath, process.env.HOME), line + "\n");
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

// Harness config files name the sandbox's own paths, which only the sandbox knows (they differ by
// driver): `template: true` files get {{HOME}} and {{WORKSPACE}} filled in.
function fileBytes(file, home) {
  const bytes = Buffer.from(file.content, "base64");
  if (!file.template) return bytes;
  return bytes.toString("utf8").replaceAll("{{HOME}}", home).replaceAll("{{WORKSPACE}}", process.cwd());
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
  // The egress gateway answers 403 for a policy refusal and 502 when the host cannot be resolved or reached.
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
  if (repo.token) {
    // The token reaches git through an askpass helper's environment only: never argv, never .git/config.
    const askpass = path.join(home, ".hangar", "askpass.sh");
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
  if (repo.token) fs.rmSync(path.join(home, ".hangar", "askpass.sh"), { force: true });
  if (result.code !== 0) fail("cloning_repo", cloneFailure(result.output, repo), result.output);
}

async function installRequirements(requirements, home, env) {
  report({ type: "phase", phase: "installing_deps" });
  const venv = path.join(home, ".venv");
  const file = path.join(home, ".hangar", "requirements.txt");
  fs.writeFileSync(file, requirements);
  const made = await run(["python3", "-m", "venv", venv], { env, cwd: home });
  if (made.code !== 0) fail("installing_deps", "could not create a Python virtual environment", made.output);
  const pip = await run(
    [path.join(venv, "bin", "pip"), "install", "--disable-pip-version-check", "--no-input", "-r", file],
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

// Later programs started in the sandbox (a TUI in Hangar's terminal, the SDK's CLI, a user's shell)
// get the same environment by sourcing this file. It stays inside the sandbox, readable by it alone.
function writeEnvFile(specEnv, env, home) {
  const quote = (value) => `'${String(value).replaceAll("'", `'\\''`)}'`;
  const lines = Object.entries({ ...specEnv, PATH: env.PATH })
    .filter(([key]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
    .map(([key, value]) => `export ${key}=${quote(value)}`);
  fs.writeFileSync(path.join(home, ".hangar", "env.sh"), lines.join("\n") + "\n", { mode: 0o600 });
}

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
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));

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
  report({ type: "ready" });
  const { code, signal } = await exited;
  report({ type: "exited", code, signal });
  process.exit(code ?? 1);
}

async function main() {
  const home = process.env.HOME;
  const spec = JSON.parse(fs.readFileSync(expandHome(specPath, home), "utf8"));
  fs.rmSync(expandHome(specPath, home), { force: true });
  const env = { ...process.env, ...spec.env };
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
  if (spec.requirements) await installRequirements(spec.requirements, home, env);
  if (spec.requirements) env.PATH = `${path.join(home, ".venv", "bin")}:${env.PATH}`;
  writeEnvFile(spec.env, env, home);
  await startHarness(spec.harness, env);
}

main().catch((err) => fail("boot", `bootstrap crashed: ${err.message}`));
