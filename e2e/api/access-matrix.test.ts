/*
 * The access matrix: every operation of the route table, tried by a key of each role in workspace A
 * and by an admin key of workspace B, against A's resources. What each may do comes from the
 * operation table itself (its `auth`), so a new route is in the matrix the moment it is described;
 * and a new route without a request here fails the first test, so it cannot be forgotten.
 *
 * Allowed → the operation's success status (or, where the state makes success impossible for
 * everyone, the documented state error named below). Not allowed → 403. Another workspace → 404 for
 * anything that names A's ids; lists answer 2xx without any of A's ids.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import type { Operation } from "@/lib/api/operation";
import { operations } from "@/lib/api/operations";
import { roleAllows, WORKSPACE_ROLES, type WorkspaceRole } from "@/lib/schemas/roles";

import { AGENTS, b64, unique } from "../support/api";
import { SESSIONS } from "../support/sandbox";
import { upgradeStatus } from "../support/terminal";

type Caller = { label: string; key: string; role: WorkspaceRole | null };
type Call = { method: string; path: string; body?: unknown; key: string; headers?: Record<string, string> };
type Answer = { status: number; text: string };
type Spec = {
  /** The request this caller makes; may create fresh fixtures first (as A's admin). */
  build: (as: Caller) => Promise<{ path: string; body?: unknown }>;
  /** When an allowed caller cannot succeed for a reason of state, the status it gets instead. */
  allowedStatus?: number;
  /** A key of another workspace: 404 (it names A's ids) or "own" (it acts in its own workspace). */
  cross?: 404 | "own" | 403 | 400;
  /** Keys are not users: the status a key of the allowed role gets (e.g. keys cannot make workspaces). */
  keyStatus?: number;
  /** How to make the request when it is not plain HTTP (the terminal's WebSocket upgrade). */
  send?: (key: string, path: string) => Promise<Answer>;
};

const base = () => inject("baseUrl");
let wsA = "";
let wsB = "";

async function call({ method, path, body, key, headers }: Call): Promise<Answer> {
  const controller = new AbortController();
  const res = await fetch(base() + path, {
    method,
    signal: controller.signal,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // A live event stream never ends by itself: its status and first bytes are the answer. A turn's
  // stream is read to its end, so the next caller finds no turn running.
  if (res.headers.get("content-type")?.includes("event-stream") && !path.endsWith("/message_stream")) {
    controller.abort();
    return { status: res.status, text: "" };
  }
  return { status: res.status, text: await res.text() };
}

/** As the master key, in workspace A (or B). */
async function master(method: string, path: string, body?: unknown, workspace = wsA) {
  const res = await call({
    method,
    path,
    body,
    key: inject("masterKey"),
    headers: { "hangar-workspace": workspace },
  });
  return { status: res.status, body: res.text ? JSON.parse(res.text) : null, text: res.text };
}

async function made(method: string, path: string, body?: unknown, workspace = wsA) {
  const res = await master(method, path, body, workspace);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

async function waitStatus(id: string, want: string[]) {
  for (let i = 0; i < 900; i++) {
    const s = await master("GET", `${SESSIONS}/${id}`);
    if (want.includes(s.body.status)) return s.body;
    if (s.body.status === "failed") throw new Error(`session ${id} failed: ${s.text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`session ${id} never reached ${want.join("/")}`);
}

const fx = {
  agent: "",
  fileAgent: "",
  skill: "",
  session: "",
  tui: "",
  environment: "",
  vault: "",
  credential: "",
  memberId: "",
};

const freshAgent = async () =>
  (await made("POST", AGENTS, { model: "m/x", harness_id: "claude-agent-sdk" })).id as string;
const freshSkill = async () =>
  (await made("POST", "/api/v1/skills", { name: unique("s"), content: "Do it." })).id as string;
const freshEnvironment = async () =>
  (await made("POST", "/v1/environments", { name: unique("e") })).id as string;
const freshVault = async () => (await made("POST", "/v1/vaults", { display_name: unique("v") })).id as string;
const credentialBody = () => ({
  auth: {
    type: "environment_variable",
    secret_name: "MATRIX_TOKEN",
    secret_value: "matrix-secret",
    networking: { type: "unrestricted" },
  },
});
const freshCredential = async () =>
  (await made("POST", `/v1/vaults/${fx.vault}/credentials`, credentialBody())).id as string;
const freshSession = async () => (await made("POST", `${AGENTS}/${fx.agent}/session`, {})).id as string;
async function freshMember(role: WorkspaceRole = "viewer") {
  const invite = await made("POST", "/api/v1/invites", { email: `${unique("m")}@example.test`, role });
  const accepted = await call({
    method: "POST",
    path: `/api/v1/invites/accept/${invite.token}`,
    body: { password: "a long enough password" },
    key: "",
  });
  if (accepted.status !== 200) throw new Error(`accept: ${accepted.status} ${accepted.text}`);
  return JSON.parse(accepted.text).user.id as string;
}

const at = (path: string) => async () => ({ path });
const sessionPath =
  (suffix = "") =>
  async () => ({ path: `${SESSIONS}/${fx.session}${suffix}` });

const SPECS: Record<string, Spec> = {
  // Agents
  listAgents: { build: at(AGENTS), cross: "own" },
  createAgent: {
    build: async () => ({ path: AGENTS, body: { model: "m/x", name: unique("a") } }),
    cross: "own",
  },
  getAgent: { build: async () => ({ path: `${AGENTS}/${fx.agent}` }) },
  updateAgent: { build: async () => ({ path: `${AGENTS}/${fx.agent}`, body: { name: unique("renamed") } }) },
  deleteAgent: { build: async () => ({ path: `${AGENTS}/${await freshAgent()}` }) },
  attachSkill: { build: async () => ({ path: `${AGENTS}/${fx.agent}/skill`, body: { skill_id: fx.skill } }) },
  detachSkill: { build: async () => ({ path: `${AGENTS}/${fx.agent}/skill` }) },
  getAgentFile: { build: async () => ({ path: `${AGENTS}/${fx.fileAgent}/files/0` }) },
  // Sessions
  createSession: { build: async () => ({ path: `${AGENTS}/${fx.agent}/session`, body: {} }) },
  listSessions: { build: at(SESSIONS), cross: "own" },
  getSession: { build: sessionPath() },
  deleteSession: { build: async () => ({ path: `${SESSIONS}/${await freshSession()}` }) },
  restartSession: {
    build: async (as) => {
      // Booting a sandbox to restart is for callers who may restart; the others are refused first.
      if (!as.role || !roleAllows(as.role, "operator"))
        return { path: `${SESSIONS}/${fx.session}/restart`, body: {} };
      const id = await freshSession();
      await waitStatus(id, ["ready"]);
      await made("DELETE", `${SESSIONS}/${id}`);
      return { path: `${SESSIONS}/${id}/restart`, body: {} };
    },
  },
  revokeTtyToken: { build: sessionPath("/tty_token/revoke") },
  // The terminal is a WebSocket: an allowed caller's upgrade is answered 101 (a viewer's seat is read-only).
  openTerminal: {
    build: async () => ({ path: `${SESSIONS}/${fx.tui}/tty` }),
    send: async (key, path) => ({
      status: await upgradeStatus(base().replace(/^http/, "ws") + path, { authorization: `Bearer ${key}` }),
      text: "",
    }),
    allowedStatus: 101,
  },
  sessionLog: { build: sessionPath("/log") },
  sandboxLogs: { build: sessionPath("/sandbox_logs") },
  // Messages
  sendMessage: {
    build: async () => ({ path: `${SESSIONS}/${fx.session}/message`, body: { text: "hello" } }),
  },
  sendMessageStream: {
    build: async () => ({ path: `${SESSIONS}/${fx.session}/message_stream`, body: { text: "hello again" } }),
  },
  sessionEvents: { build: sessionPath("/events") },
  sessionStream: { build: sessionPath("/stream") },
  listMessages: { build: sessionPath("/messages") },
  abortTurn: { build: sessionPath("/abort") },
  // No permission is waiting: an allowed caller reaches the state check, which says so.
  answerPermission: {
    build: async () => ({ path: `${SESSIONS}/${fx.session}/permissions/perm_none`, body: { reply: "once" } }),
    allowedStatus: 409,
  },
  // An Agent SDK session has no opencode server: an allowed caller reaches that check.
  opencodeProxyGet: { build: sessionPath("/opencode/session"), allowedStatus: 404 },
  opencodeProxyPost: {
    build: async () => ({ path: `${SESSIONS}/${fx.session}/opencode/session`, body: {} }),
    allowedStatus: 404,
  },
  // Skills
  listSkills: { build: at("/api/v1/skills"), cross: "own" },
  createSkill: {
    build: async () => ({ path: "/api/v1/skills", body: { name: unique("s"), content: "Do it." } }),
    cross: "own",
  },
  getSkill: { build: async () => ({ path: `/api/v1/skills/${fx.skill}` }) },
  updateSkill: {
    build: async () => ({ path: `/api/v1/skills/${fx.skill}`, body: { description: unique("d") } }),
  },
  deleteSkill: { build: async () => ({ path: `/api/v1/skills/${await freshSkill()}` }) },
  listSkillVersions: { build: async () => ({ path: `/api/v1/skills/${fx.skill}/versions` }) },
  // Platform and auth
  logout: { build: at("/api/v1/auth/logout"), cross: "own" },
  getAuthSession: { build: at("/api/v1/auth/session"), cross: "own" },
  listModels: { build: at("/api/v1/models"), cross: "own" },
  listGatewayRequests: { build: at("/api/v1/model_gateway/requests"), cross: "own" },
  // Teams
  listWorkspaces: { build: at("/api/v1/workspaces"), cross: "own" },
  createWorkspace: {
    build: async () => ({ path: "/api/v1/workspaces", body: { name: unique("w") } }),
    keyStatus: 403,
    cross: 403,
  },
  switchWorkspace: {
    build: async () => ({ path: "/api/v1/auth/workspace", body: { workspace_id: wsA } }),
    keyStatus: 400,
    cross: 400,
  },
  listMembers: { build: at("/api/v1/members"), cross: "own" },
  updateMember: { build: async () => ({ path: `/api/v1/members/${fx.memberId}`, body: { role: "viewer" } }) },
  removeMember: { build: async () => ({ path: `/api/v1/members/${await freshMember()}` }) },
  listInvites: { build: at("/api/v1/invites"), cross: "own" },
  createInvite: {
    build: async () => ({ path: "/api/v1/invites", body: { email: `${unique("i")}@example.test` } }),
    cross: "own",
  },
  revokeInvite: {
    build: async () => ({
      path: `/api/v1/invites/${(await made("POST", "/api/v1/invites", { email: `${unique("r")}@example.test` })).id}`,
    }),
  },
  listApiKeys: { build: at("/api/v1/api_keys"), cross: "own" },
  // Limited to A's agent, so B's key is refused for naming it.
  createApiKey: {
    build: async () => ({
      path: "/api/v1/api_keys",
      body: { name: unique("k"), role: "viewer", agent_ids: [fx.agent] },
    }),
  },
  revokeApiKey: {
    build: async () => ({
      path: `/api/v1/api_keys/${(await made("POST", "/api/v1/api_keys", { name: unique("k"), role: "viewer" })).id}`,
    }),
  },
  listAudit: { build: at("/api/v1/audit"), cross: "own" },
  // The Managed Agents API facade (/v1): the same roles and workspaces as Hangar's own routes.
  managedListAgents: { build: at("/v1/agents"), cross: "own" },
  managedCreateAgent: {
    build: async () => ({ path: "/v1/agents", body: { name: unique("m"), model: "claude-sonnet-4-6" } }),
    cross: "own",
  },
  managedGetAgent: { build: async () => ({ path: `/v1/agents/${fx.agent}` }) },
  managedUpdateAgent: {
    build: async () => ({ path: `/v1/agents/${fx.agent}`, body: { description: unique("d") } }),
  },
  managedArchiveAgent: { build: async () => ({ path: `/v1/agents/${await freshAgent()}/archive` }) },
  managedListAgentVersions: { build: async () => ({ path: `/v1/agents/${fx.agent}/versions` }) },
  managedListEnvironments: { build: at("/v1/environments"), cross: "own" },
  managedCreateEnvironment: {
    build: async () => ({ path: "/v1/environments", body: { name: unique("e") } }),
    cross: "own",
  },
  managedGetEnvironment: { build: async () => ({ path: `/v1/environments/${fx.environment}` }) },
  managedUpdateEnvironment: {
    build: async () => ({ path: `/v1/environments/${fx.environment}`, body: { description: unique("d") } }),
  },
  managedArchiveEnvironment: {
    build: async () => ({ path: `/v1/environments/${await freshEnvironment()}/archive` }),
  },
  managedDeleteEnvironment: { build: async () => ({ path: `/v1/environments/${await freshEnvironment()}` }) },
  managedListSessions: { build: at("/v1/sessions"), cross: "own" },
  managedCreateSession: {
    build: async () => ({ path: "/v1/sessions", body: { agent: fx.agent, environment_id: fx.environment } }),
  },
  managedGetSession: { build: async () => ({ path: `/v1/sessions/${fx.session}` }) },
  managedUpdateSession: {
    build: async () => ({ path: `/v1/sessions/${fx.session}`, body: { title: unique("t") } }),
  },
  managedArchiveSession: { build: async () => ({ path: `/v1/sessions/${await freshSession()}/archive` }) },
  managedDeleteSession: { build: async () => ({ path: `/v1/sessions/${await freshSession()}` }) },
  // No turn is running: an interrupt is a no-op, answered like any other.
  managedSendEvents: {
    build: async () => ({
      path: `/v1/sessions/${fx.session}/events`,
      body: { events: [{ type: "user.interrupt" }] },
    }),
  },
  managedListEvents: { build: async () => ({ path: `/v1/sessions/${fx.session}/events` }) },
  managedStreamEvents: { build: async () => ({ path: `/v1/sessions/${fx.session}/events/stream` }) },
  managedListSkills: { build: at("/v1/skills"), cross: "own" },
  // The SDK uploads SKILL.md as multipart; the same fields as JSON are accepted too.
  managedCreateSkill: {
    build: async () => ({
      path: "/v1/skills",
      body: { files: [{ filename: "SKILL.md", content: `---\nname: ${unique("s")}\n---\nDo it.` }] },
    }),
    cross: "own",
  },
  managedGetSkill: { build: async () => ({ path: `/v1/skills/${fx.skill}` }) },
  managedDeleteSkill: { build: async () => ({ path: `/v1/skills/${await freshSkill()}` }) },
  managedListVaults: { build: at("/v1/vaults"), cross: "own" },
  managedCreateVault: {
    build: async () => ({ path: "/v1/vaults", body: { display_name: unique("v") } }),
    cross: "own",
  },
  managedGetVault: { build: async () => ({ path: `/v1/vaults/${fx.vault}` }) },
  managedUpdateVault: {
    build: async () => ({ path: `/v1/vaults/${fx.vault}`, body: { display_name: unique("v") } }),
  },
  managedArchiveVault: { build: async () => ({ path: `/v1/vaults/${await freshVault()}/archive` }) },
  managedDeleteVault: { build: async () => ({ path: `/v1/vaults/${await freshVault()}` }) },
  managedListCredentials: { build: async () => ({ path: `/v1/vaults/${fx.vault}/credentials` }) },
  managedCreateCredential: {
    build: async () => ({ path: `/v1/vaults/${fx.vault}/credentials`, body: credentialBody() }),
  },
  managedGetCredential: {
    build: async () => ({ path: `/v1/vaults/${fx.vault}/credentials/${fx.credential}` }),
  },
  managedUpdateCredential: {
    build: async () => ({
      path: `/v1/vaults/${fx.vault}/credentials/${fx.credential}`,
      body: { display_name: unique("c") },
    }),
  },
  managedArchiveCredential: {
    build: async () => ({ path: `/v1/vaults/${fx.vault}/credentials/${await freshCredential()}/archive` }),
  },
  managedDeleteCredential: {
    build: async () => ({ path: `/v1/vaults/${fx.vault}/credentials/${await freshCredential()}` }),
  },
  exportAudit: { build: at("/api/v1/audit/export"), cross: "own" },
};

const guarded = (Object.values(operations) as Operation[]).filter((op) => op.auth !== "none");

/** The status an operation answers on success: the lowest 2xx it documents. */
function success(op: Operation): number {
  return Math.min(
    ...Object.keys(op.responses)
      .map(Number)
      .filter((s) => s >= 200 && s < 300),
  );
}

function expected(op: Operation, spec: Spec, caller: Caller): number {
  if (caller.role === null) {
    if (spec.cross === "own") return success(op);
    return spec.cross ?? 404;
  }
  const allowed = op.auth === "signed_in" || roleAllows(caller.role, op.auth as WorkspaceRole);
  if (!allowed) return 403;
  return spec.keyStatus ?? spec.allowedStatus ?? success(op);
}

const callers: Caller[] = [];

describe("the access matrix", () => {
  beforeAll(async () => {
    wsA = (await made("POST", "/api/v1/workspaces", { name: unique("A") })).id;
    wsB = (await made("POST", "/api/v1/workspaces", { name: unique("B") })).id;
    for (const role of WORKSPACE_ROLES) {
      const key = await made("POST", "/api/v1/api_keys", { name: `matrix ${role}`, role });
      callers.push({ label: `A ${role} key`, key: key.key, role });
    }
    const other = await made("POST", "/api/v1/api_keys", { name: "matrix other", role: "admin" }, wsB);
    callers.push({ label: "B admin key", key: other.key, role: null });
    fx.agent = await freshAgent();
    fx.skill = await freshSkill();
    fx.environment = await freshEnvironment();
    fx.vault = await freshVault();
    fx.credential = await freshCredential();
    fx.fileAgent = (
      await made("POST", AGENTS, {
        model: "m/x",
        sandbox_files: [
          { name: "a.txt", sandbox_path: "~/a.txt", content: b64("a"), size: 1, content_type: "text/plain" },
        ],
      })
    ).id;
    fx.session = await freshSession();
    const codex = (await made("POST", AGENTS, { model: "hangar-test-model", harness_id: "codex" })).id;
    fx.tui = (await made("POST", `${AGENTS}/${codex}/session`, {})).id;
    await waitStatus(fx.session, ["ready"]);
    await waitStatus(fx.tui, ["ready"]);
    fx.memberId = await freshMember("operator");
  }, 180_000);

  afterAll(async () => {
    // Stop every session the matrix started (in A; B's keys could start none of A's).
    const live = await master("GET", `${SESSIONS}?limit=200`);
    for (const s of live.body?.data ?? [])
      if (s.status !== "dead") await master("DELETE", `${SESSIONS}/${s.id}`);
  }, 120_000);

  it("has a request for every operation of the route table", () => {
    expect(guarded.map((op) => op.id).filter((id) => !SPECS[id])).toEqual([]);
    expect(Object.keys(SPECS).filter((id) => !guarded.some((op) => op.id === id))).toEqual([]);
  });

  for (const op of guarded) {
    it(`${op.method} ${op.path} (${op.id}: ${op.auth})`, async () => {
      const spec = SPECS[op.id];
      if (!spec) throw new Error(`no request for ${op.id}`);
      const seen: string[] = [];
      for (const caller of callers) {
        const request = await spec.build(caller);
        const answer = spec.send
          ? await spec.send(caller.key, request.path)
          : await call({ method: op.method, ...request, key: caller.key });
        const want = expected(op, spec, caller);
        seen.push(`${caller.label}: ${answer.status}`);
        expect(
          answer.status,
          `${caller.label} ${op.method} ${request.path}: ${answer.text.slice(0, 300)}`,
        ).toBe(want);
        if (caller.role === null && spec.cross === "own") {
          for (const id of [fx.agent, fx.skill, fx.session, fx.tui, fx.memberId, wsA]) {
            expect(answer.text, `${caller.label} sees A's ${id}`).not.toContain(id);
          }
        }
      }
    }, 120_000);
  }
});
