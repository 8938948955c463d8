/*
 * Boot steps and egress through real sandboxes, with "remote" hosts simulated on loopback: a git
 * server over HTTPS (self-signed CA, delivered as a sandbox file), a local wheel folder for pip, and
 * plain HTTP servers for egress. Made-up names map to 127.0.0.1 through HANGAR_TEST_HOSTS; the
 * gateway's private-address guard still applies, so each test names its hosts in allow_out.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";

import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { LocalDriver } from "@/lib/sandbox/drivers/local";

import { callServer } from "../support/api";
import { startServer, tempDir, type TestServer } from "../support/server";

const TOKEN = "git-token-" + crypto.randomUUID();
let hangar: TestServer;
let gitServer: https.Server;
let web: http.Server;
let gitPort = 0;
let webPort = 0;
let caPem = "";
let wheelB64 = "";

const call = (method: string, p: string, body?: unknown) => callServer(hangar, method, p, body);

async function session(agentFields: Record<string, unknown>, sessionBody: Record<string, unknown> = {}) {
  const agent = await call("POST", "/api/v1/managed_agents/agents", {
    model: "m/x",
    harness_id: "claude-agent-sdk",
    ...agentFields,
  });
  expect(agent.status, agent.text).toBe(201);
  const created = await call("POST", `/api/v1/managed_agents/agents/${agent.body.id}/session`, sessionBody);
  expect(created.status, created.text).toBe(201);
  for (let i = 0; i < 600; i++) {
    const s = await call("GET", `/api/v1/managed_agents/sessions/${created.body.id}`);
    if (s.body.status === "failed") {
      const logs = await call("GET", `/api/v1/managed_agents/sessions/${created.body.id}/sandbox_logs`);
      return { ...s.body, logs: logs.text };
    }
    if (s.body.status !== "creating") return s.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("session never left creating");
}

function inside(sessionId: string, script: string) {
  const driver = new LocalDriver({ root: path.join(hangar.dataDir, "sessions") });
  return driver.exec(sessionId, ["sh", "-c", script], { timeoutMs: 30_000 });
}

/** A bare repository served over HTTPS ("dumb" git protocol), behind Basic auth with the token. */
function makeRepo(dir: string) {
  const work = path.join(dir, "work");
  const bare = path.join(dir, "srv", "repo.git");
  const git = (args: string[], cwd: string) => execFileSync("git", args, { cwd, stdio: "pipe" });
  fs.mkdirSync(work, { recursive: true });
  git(["init", "-q", "-b", "main"], work);
  fs.writeFileSync(path.join(work, "README.md"), "hello from the repo\n");
  git(["-c", "user.email=t@t", "-c", "user.name=t", "add", "."], work);
  git(["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"], work);
  git(["clone", "-q", "--bare", work, bare], dir);
  git(["update-server-info"], bare);
  return path.join(dir, "srv");
}

/** A minimal pure-Python wheel, built by hand (a zip with METADATA, WHEEL and RECORD). */
function makeWheel(dir: string): string {
  const file = path.join(dir, "hangar_demo-1.0-py3-none-any.whl");
  execFileSync("python3", [
    "-c",
    `import zipfile
z = zipfile.ZipFile(${JSON.stringify(file)}, "w")
z.writestr("hangar_demo/__init__.py", "VALUE = 42\\n")
z.writestr("hangar_demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: hangar-demo\\nVersion: 1.0\\n")
z.writestr("hangar_demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nGenerator: hand\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
z.writestr("hangar_demo-1.0.dist-info/RECORD", "")
z.close()`,
  ]);
  return fs.readFileSync(file).toString("base64");
}

beforeAll(async () => {
  const dir = tempDir("boot");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=git.test",
      "-addext",
      "subjectAltName=DNS:git.test",
      "-keyout",
      path.join(dir, "key.pem"),
      "-out",
      path.join(dir, "cert.pem"),
    ],
    { stdio: "pipe" },
  );
  caPem = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
  const root = makeRepo(dir);
  const expected = "Basic " + Buffer.from(`x-access-token:${TOKEN}`).toString("base64");
  gitServer = https.createServer(
    { key: fs.readFileSync(path.join(dir, "key.pem")), cert: caPem },
    (req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="git"' }).end();
        return;
      }
      const file = path.join(root, decodeURIComponent((req.url ?? "/").split("?")[0] as string));
      if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200).end(fs.readFileSync(file));
    },
  );
  await new Promise<void>((r) => gitServer.listen(0, "127.0.0.1", r));
  gitPort = (gitServer.address() as AddressInfo).port;
  web = http.createServer((req, res) => res.end(`web says hi to ${req.headers.host}`));
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
  webPort = (web.address() as AddressInfo).port;
  wheelB64 = makeWheel(dir);
  hangar = await startServer({
    env: { HANGAR_TEST_HOSTS: "git.test=127.0.0.1,allowed.test=127.0.0.1,denied.test=127.0.0.1" },
  });
}, 120_000);

afterAll(async () => {
  await hangar?.stop();
  gitServer?.close();
  web?.close();
});

const caFile = () => ({
  name: "ca",
  sandbox_path: "~/ca.pem",
  content: Buffer.from(caPem).toString("base64"),
  size: Buffer.byteLength(caPem),
});
const repoUrl = () => `https://git.test:${gitPort}/repo.git`;

describe("boot steps in a real sandbox", () => {
  it("clones a private repository with GIT_TOKEN, which is gone afterwards", async () => {
    const s = await session(
      {
        repo_url: repoUrl(),
        branch: "main",
        allow_out: ["git.test"],
        sandbox_files: [caFile()],
        env_vars: { GIT_SSL_CAINFO: "/home/agent/ca.pem" },
      },
      { env_vars: { GIT_TOKEN: TOKEN } },
    );
    expect(s.failure_reason, s.logs).toBeNull();
    expect(s.status).toBe("ready");
    const readme = await inside(
      s.id,
      "cat README.md; cat .git/config; env; cat ~/.hangar/* 2>/dev/null; ls ~/.hangar",
    );
    expect(readme.stdout).toContain("hello from the repo");
    expect(readme.stdout).not.toContain(TOKEN);
    const log = await call("GET", `/api/v1/managed_agents/sessions/${s.id}/sandbox_logs?tail_lines=5000`);
    expect(log.text).not.toContain(TOKEN);
    expect(fs.readFileSync(hangar.logFile, "utf8")).not.toContain(TOKEN);
    await call("DELETE", `/api/v1/managed_agents/sessions/${s.id}`);
  }, 120_000);

  it("a Managed Agents API session clones its github_repository resource; the token reaches the clone only", async () => {
    const client = new Anthropic({ baseURL: hangar.url, apiKey: hangar.masterKey, maxRetries: 0 }).beta;
    // The CA of the stand-in git host is an agent file, set through Hangar's own API.
    const agent = await call("POST", "/api/v1/managed_agents/agents", {
      model: "claude-sonnet-4-6",
      harness_id: "claude-agent-sdk",
      sandbox_files: [caFile()],
      env_vars: { GIT_SSL_CAINFO: "/home/agent/ca.pem" },
    });
    expect(agent.status, agent.text).toBe(201);
    const environment = await client.environments.create({
      name: "git only",
      config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["git.test"] } },
    });
    const created = await client.sessions.create({
      agent: agent.body.id,
      environment_id: environment.id,
      resources: [
        {
          type: "github_repository",
          url: repoUrl(),
          authorization_token: TOKEN,
          checkout: { type: "branch", name: "main" },
        },
      ],
    });
    expect(JSON.stringify(created)).not.toContain(TOKEN);
    let status = created.status;
    for (let i = 0; i < 600 && status === "rescheduling"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await client.sessions.retrieve(created.id)).status;
    }
    expect(status).toBe("idle");
    const session = await client.sessions.retrieve(created.id);
    expect(session.resources).toEqual([
      expect.objectContaining({
        type: "github_repository",
        url: repoUrl(),
        checkout: { type: "branch", name: "main" },
      }),
    ]);
    const inner = await inside(
      created.id,
      "cat README.md; cat .git/config; env; cat ~/.hangar/* 2>/dev/null",
    );
    expect(inner.stdout).toContain("hello from the repo");
    expect(inner.stdout).not.toContain(TOKEN);
    expect(fs.readFileSync(hangar.logFile, "utf8")).not.toContain(TOKEN);
    await client.sessions.delete(created.id);
  }, 120_000);

  it.each([
    [
      "a wrong branch",
      { branch: "nope" },
      { env_vars: { GIT_TOKEN: TOKEN } },
      /clone failed: branch "nope" does not exist/,
    ],
    ["no token for a private repository", {}, {}, /clone failed: git\.test:\d+ refused the credentials/],
  ])(
    "fails clearly on %s",
    async (_name, agentExtra, sessionBody, reason) => {
      const s = await session(
        {
          repo_url: repoUrl(),
          allow_out: ["git.test"],
          sandbox_files: [caFile()],
          env_vars: { GIT_SSL_CAINFO: "/home/agent/ca.pem" },
          ...agentExtra,
        },
        sessionBody,
      );
      expect(s.status).toBe("failed");
      expect(s.failure_reason).toMatch(reason);
    },
    120_000,
  );

  it("installs requirements from a local wheel folder into a venv, and names a missing package", async () => {
    const wheel = {
      name: "wheel",
      sandbox_path: "~/wheels/hangar_demo-1.0-py3-none-any.whl",
      content: wheelB64,
      size: Buffer.from(wheelB64, "base64").length,
    };
    const ok = await session({
      requirements: "--no-index\n--find-links /home/agent/wheels\nhangar-demo==1.0\n",
      sandbox_files: [wheel],
    });
    expect(ok.failure_reason).toBeNull();
    expect(ok.status).toBe("ready");
    const run = await inside(ok.id, "~/.venv/bin/python -c 'import hangar_demo; print(hangar_demo.VALUE)'");
    expect(run.stdout.trim()).toBe("42");
    await call("DELETE", `/api/v1/managed_agents/sessions/${ok.id}`);

    const missing = await session({
      requirements: "--no-index\n--find-links /home/agent/wheels\nno-such-package==9.9\n",
      sandbox_files: [wheel],
    });
    expect(missing.status).toBe("failed");
    expect(missing.failure_reason).toBe("pip failed: no package matches no-such-package==9.9");
  }, 180_000);
});

describe("boot steps after a warm claim", () => {
  it("a claimed warm sandbox clones with GIT_TOKEN and installs requirements after the claim", async () => {
    const warm = await startServer({
      env: {
        HANGAR_TEST_HOSTS: "git.test=127.0.0.1",
        HANGAR_POOL_CLAUDE_AGENT_SDK: "1",
      },
    });
    try {
      const agentsPath = "/api/v1/managed_agents/agents";
      const warmIds = () =>
        fs
          .readFileSync(warm.logFile, "utf8")
          .split("\n")
          .filter((line) => line.includes('"warm sandbox ready"'))
          .map((line) => (JSON.parse(line) as { sessionId: string }).sessionId);
      for (let i = 0; i < 600 && warmIds().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      const agent = await callServer(warm, "POST", agentsPath, {
        model: "m/x",
        harness_id: "claude-agent-sdk",
        repo_url: repoUrl(),
        branch: "main",
        allow_out: ["git.test"],
        requirements: "--no-index\n--find-links /home/agent/wheels\nhangar-demo==1.0\n",
        sandbox_files: [
          caFile(),
          {
            name: "wheel",
            sandbox_path: "~/wheels/hangar_demo-1.0-py3-none-any.whl",
            content: wheelB64,
            size: Buffer.from(wheelB64, "base64").length,
          },
        ],
        env_vars: { GIT_SSL_CAINFO: "/home/agent/ca.pem" },
      });
      expect(agent.status, agent.text).toBe(201);
      const created = await callServer(warm, "POST", `${agentsPath}/${agent.body.id}/session`, {
        env_vars: { GIT_TOKEN: TOKEN },
      });
      expect(created.body).toMatchObject({ id: warmIds()[0], spawn_mode: "warm" });
      let s = created.body;
      for (let i = 0; i < 1200 && s.status === "creating"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        s = (await callServer(warm, "GET", `/api/v1/managed_agents/sessions/${s.id}`)).body;
      }
      expect(s.failure_reason).toBeNull();
      expect(s.status).toBe("ready");
      const driver = new LocalDriver({ root: path.join(warm.dataDir, "sessions") });
      const run = await driver.exec(
        s.id,
        [
          "sh",
          "-c",
          "cat README.md; ~/.venv/bin/python -c 'import hangar_demo; print(hangar_demo.VALUE)'; cat .git/config; cat /proc/[0-9]*/environ | tr '\\0' '\\n'",
        ],
        { timeoutMs: 30_000 },
      );
      expect(run.stdout).toContain("hello from the repo");
      expect(run.stdout).toContain("42");
      expect(run.stdout).not.toContain(TOKEN);
      expect(fs.readFileSync(warm.logFile, "utf8")).not.toContain(TOKEN);
    } finally {
      await warm.stop();
    }
  }, 240_000);
});

describe("egress from a real sandbox", () => {
  // Commands run with `exec` get the sandbox's base environment, not the harness's: name the proxy.
  const PROXY = "-x http://127.0.0.1:3128";
  const curl = (target: string, extra = PROXY) =>
    `curl -s -o /dev/null -w '%{http_code}' ${extra} ${target}; echo " exit=$?"`;

  it("allow list: the named host is reachable, others are refused and become events; direct connections are impossible", async () => {
    const s = await session({ allow_out: ["allowed.test"], deny_out: [] });
    expect(s.status).toBe("ready");
    const allowed = await inside(s.id, `curl -s ${PROXY} http://allowed.test:${webPort}/`);
    expect(allowed.stdout).toBe(`web says hi to allowed.test:${webPort}`);
    expect((await inside(s.id, curl(`http://denied.test:${webPort}/`))).stdout).toMatch(/^403/);
    expect((await inside(s.id, curl(`https://example.com/`))).stdout).not.toMatch(/^200/);
    // Without the proxy there is no route out at all.
    expect(
      (await inside(s.id, curl(`http://127.0.0.1:${webPort}/`, "--noproxy '*' --max-time 3"))).stdout,
    ).toMatch(/^000 exit=7/);
    const events = await call("GET", `/api/v1/managed_agents/sessions/${s.id}/log`);
    const denied = events.body.data.filter((e: { type: string }) => e.type === "egress_denied");
    expect(denied.map((e: { data: { host: string } }) => e.data.host)).toContain("denied.test");
    await call("DELETE", `/api/v1/managed_agents/sessions/${s.id}`);
  }, 120_000);

  it("deny wins over allow; without an allow list, private and metadata addresses stay refused", async () => {
    const s = await session({ allow_out: [], deny_out: ["denied.test"] });
    expect((await inside(s.id, curl(`http://denied.test:${webPort}/`))).stdout).toMatch(/^403/);
    const hangarPort = new URL(hangar.url).port;
    for (const target of [
      `http://127.0.0.1:${hangarPort}/api/v1/health`,
      "http://169.254.169.254/latest/meta-data/",
      `http://127.0.0.1:5432/`,
      `http://allowed.test:${webPort}/`,
    ]) {
      expect((await inside(s.id, curl(target, `${PROXY} --max-time 5`))).stdout, target).toMatch(/^403/);
    }
    const both = await session({ allow_out: ["denied.test", "allowed.test"], deny_out: ["denied.test"] });
    expect((await inside(both.id, curl(`http://denied.test:${webPort}/`))).stdout).toMatch(/^403/);
    expect((await inside(both.id, curl(`http://allowed.test:${webPort}/`))).stdout).toMatch(/^200/);
    for (const id of [s.id, both.id]) await call("DELETE", `/api/v1/managed_agents/sessions/${id}`);
  }, 120_000);

  it("the sandbox holds neither the master key nor the gateway key", async () => {
    const s = await session({});
    const env = await inside(
      s.id,
      "for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null; done; ls -a ~ ~/.hangar",
    );
    expect(env.stdout).not.toContain(hangar.masterKey);
    expect(env.stdout).toMatch(/LITELLM_API_KEY=hst_/);
    const readData = await inside(s.id, `cat ${hangar.dataDir}/master.key; ls ${hangar.dataDir}`);
    expect(readData.stdout).not.toContain(hangar.masterKey);
    // Of Hangar's install the sandbox sees the bootstrap and the harness binaries, not sources or settings.
    const install = await inside(
      s.id,
      `cat ${process.cwd()}/package.json; ls ${process.cwd()}/lib/sandbox/bootstrap`,
    );
    expect(install.stdout).not.toContain('"name": "hangar"');
    expect(install.stdout).toContain("boot.mjs");
    await call("DELETE", `/api/v1/managed_agents/sessions/${s.id}`);
  }, 120_000);
});
