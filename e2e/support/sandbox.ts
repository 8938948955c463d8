/*
 * Acting from inside a session's sandbox, as an attacker would: start a session and wait for it,
 * run shell scripts in its sandbox (the local driver's exec, which enters its namespaces), and read
 * the model endpoint the sandbox was given.
 */
import path from "node:path";

import { expect } from "vitest";

import { LocalDriver } from "@/lib/sandbox/drivers/local";

import { callServer } from "./api";
import type { TestServer } from "./server";

export const SESSIONS = "/api/v1/managed_agents/sessions";

/** Creates an agent (Agent SDK by default) and a session of it; resolves once it is ready. */
export async function readySession(server: TestServer, agentFields: Record<string, unknown> = {}) {
  const call = (method: string, p: string, body?: unknown) => callServer(server, method, p, body);
  const agent = await call("POST", "/api/v1/managed_agents/agents", {
    model: "m/x",
    harness_id: "claude-agent-sdk",
    ...agentFields,
  });
  expect(agent.status, agent.text).toBe(201);
  const created = await call("POST", `/api/v1/managed_agents/agents/${agent.body.id}/session`, {});
  expect(created.status, created.text).toBe(201);
  for (let i = 0; i < 600; i++) {
    const s = await call("GET", `${SESSIONS}/${created.body.id}`);
    if (s.body.status !== "creating") {
      expect(s.body.status, s.text).toBe("ready");
      return s.body.id as string;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("session never left creating");
}

/** Runs `script` with sh inside the session's sandbox. */
export function inSandbox(server: TestServer, sessionId: string, script: string, timeoutMs = 60_000) {
  const driver = new LocalDriver({ root: path.join(server.dataDir, "sessions") });
  return driver.exec(sessionId, ["sh", "-c", script], { timeoutMs });
}

/** What the sandbox's processes were given: LITELLM_API_BASE and its session token. */
export async function sandboxModelEnv(server: TestServer, sessionId: string) {
  const out = await inSandbox(
    server,
    sessionId,
    "for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null; done",
  );
  const base = /^LITELLM_API_BASE=(\S+)$/m.exec(out.stdout)?.[1];
  const token = /^LITELLM_API_KEY=(hst_\S+)$/m.exec(out.stdout)?.[1];
  if (!base || !token) throw new Error(`no model endpoint in the sandbox's environment:\n${out.stderr}`);
  return { base, token };
}
