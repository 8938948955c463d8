import { createHash, timingSafeEqual } from "node:crypto";

import { findApiKeyByHash, findApiKeyById, touchApiKey, type ApiKeyRow } from "@/db/queries/api-keys";
import { getActiveBrowserSession, type BrowserSessionRow } from "@/db/queries/browser-sessions";
import { getUser } from "@/db/queries/users";
import {
  DEFAULT_WORKSPACE_ID,
  getMembership,
  getWorkspace,
  listUserWorkspaces,
} from "@/db/queries/workspaces";
import { log } from "@/lib/log";
import { processSlot } from "@/lib/process-slot";
import { runtime } from "@/lib/runtime";
import type { WorkspaceRole } from "@/lib/schemas/roles";
import { isApiKey, sha256 } from "@/lib/teams/tokens";

import { readBrowserSession, readCookie, sessionCookieName } from "./browser-session";
import { ApiError } from "./errors";
import { isHttps, type RequestLike } from "./transport";

/** Who is acting: the master key's holder, a user (by login cookie), or an API key. */
export type Actor =
  | { kind: "master"; id: null; label: "master key" }
  | { kind: "user"; id: string; label: string }
  | { kind: "key"; id: string; label: string };

/**
 * An authenticated caller, in one workspace, with one role there. Every authorisation decision reads
 * this (lib/api/access.ts); nothing else decides who may do what.
 */
export type Principal = {
  actor: Actor;
  workspaceId: string;
  role: WorkspaceRole;
  /** An API key's agent allow-list; null when every agent of the workspace is in reach. */
  agentIds: readonly string[] | null;
  /** What revoking closes this caller's open streams and terminals by (lib/teams/revocation.ts). */
  credentials: readonly string[];
  /** When the credential stops working (an expiring key, a login); open streams end then too. */
  expiresAt: Date | null;
  /** The browser login this request came with, if it came with one. */
  login: { id: string; expiresAt: Date } | null;
};

/** The header that picks the workspace for the master key (the default workspace without it). */
export const WORKSPACE_HEADER = "hangar-workspace";
/** The same choice as Anthropic's SDKs send it (`workspaceId` option), for the /v1 facade. */
export const ANTHROPIC_WORKSPACE_HEADER = "anthropic-workspace-id";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const keyTouches = processSlot("api-key-touches", () => new Map<string, number>());

const MASTER: Actor = { kind: "master", id: null, label: "master key" };

/** Constant-time check of a presented key against the master key (both hashed to equal length). */
export function isMasterKey(presented: string): boolean {
  const digest = createHash("sha256").update(presented).digest();
  return timingSafeEqual(digest, runtime().masterKeyDigest);
}

export function bearerToken(header: string | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim() ?? null;
}

/**
 * A state-changing request carried by a cookie must come from Hangar's own pages: its Origin (or,
 * without one, Sec-Fetch-Site) must match. SameSite=Lax already stops most cross-site sends.
 */
export function assertSameOrigin(req: RequestLike) {
  const origin = req.headers.get("origin");
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host");
  if (origin) {
    let originHost: string | null = null;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = null;
    }
    if (originHost && originHost === host) return;
  } else if (req.headers.get("sec-fetch-site") === "same-origin") {
    return;
  }
  throw new ApiError(
    "forbidden",
    "Cross-site request refused: this cookie only works from Hangar's own pages",
  );
}

async function masterPrincipal(
  asked: string | null | undefined,
  login: Principal["login"],
): Promise<Principal> {
  const workspaceId = asked || DEFAULT_WORKSPACE_ID;
  if (asked && !(await getWorkspace(asked))) throw new ApiError("not_found", `workspace ${asked} not found`);
  return {
    actor: MASTER,
    workspaceId,
    role: "admin",
    agentIds: null,
    credentials: login ? [`login:${login.id}`] : [],
    expiresAt: login?.expiresAt ?? null,
    login,
  };
}

async function keyPrincipal(presented: string): Promise<Principal> {
  return principalOfKey(await findApiKeyByHash(sha256(presented)));
}

function principalOfKey(row: ApiKeyRow | null): Principal {
  const now = new Date();
  if (!row || row.revokedAt)
    throw new ApiError("unauthorized", "Invalid credentials: this API key is unknown or revoked");
  if (row.expiresAt && row.expiresAt <= now) throw new ApiError("unauthorized", "This API key has expired");
  // Last use is kept to the minute: one write a minute per key, not one per request.
  const last = keyTouches.get(row.id) ?? 0;
  if (now.getTime() - last >= 60_000) {
    if (keyTouches.size > 10_000) keyTouches.clear();
    keyTouches.set(row.id, now.getTime());
    void touchApiKey(row.id, now).catch((err: unknown) => log.warn("recording API key use failed", { err }));
  }
  return {
    actor: { kind: "key", id: row.id, label: row.name },
    workspaceId: row.workspaceId,
    role: row.role,
    agentIds: row.agentIds,
    credentials: [`key:${row.id}`],
    expiresAt: row.expiresAt,
    login: null,
  };
}

async function userPrincipal(
  userId: string,
  login: { id: string; expiresAt: Date; workspaceId: string | null },
  exactWorkspace = false,
) {
  const user = await getUser(userId);
  if (!user || user.disabledAt) throw new ApiError("unauthorized", "Your account is disabled: ask an admin");
  let workspaceId = login.workspaceId;
  let role = workspaceId ? (await getMembership(workspaceId, userId))?.role : undefined;
  if (!role && exactWorkspace) throw new ApiError("not_found", "You are not a member of this workspace");
  if (!role) {
    // The chosen workspace is gone or the user was removed from it: fall back to another one.
    const [first] = await listUserWorkspaces(userId);
    if (!first)
      throw new ApiError("forbidden", "You are not a member of any workspace: ask an admin to invite you");
    workspaceId = first.workspace.id;
    role = first.role;
  }
  const principal: Principal = {
    actor: { kind: "user", id: user.id, label: user.email },
    workspaceId: workspaceId as string,
    role,
    agentIds: null,
    credentials: [`login:${login.id}`, `user:${user.id}`, `member:${workspaceId}:${user.id}`],
    expiresAt: login.expiresAt,
    login: { id: login.id, expiresAt: login.expiresAt },
  };
  return principal;
}

/**
 * The caller a terminal token was minted for (its holder credential), if that credential still works
 * in `workspaceId`: the key is not revoked or expired, the login not ended, the user still a member.
 */
export async function principalOfCredential(credential: string, workspaceId: string): Promise<Principal> {
  const [kind, id] = [
    credential.slice(0, credential.indexOf(":")),
    credential.slice(credential.indexOf(":") + 1),
  ];
  let principal: Principal;
  if (credential === "master") {
    principal = await masterPrincipal(workspaceId, null);
  } else if (kind === "key") {
    principal = principalOfKey(await findApiKeyById(id));
  } else if (kind === "login") {
    const login = await getActiveBrowserSession(id);
    if (!login) throw new ApiError("unauthorized", "The login this terminal token was issued to has ended");
    const when = { id: login.id, expiresAt: login.expiresAt, workspaceId };
    principal = login.userId
      ? await userPrincipal(login.userId, when, true)
      : await masterPrincipal(workspaceId, when);
  } else {
    throw new ApiError("unauthorized", "This terminal token names no credential Hangar knows");
  }
  if (principal.workspaceId !== workspaceId) throw new ApiError("not_found", "session not found");
  return principal;
}

/** The caller a browser login (its row) stands for: a user in the login's workspace, or the master key. */
export async function principalOfLogin(session: BrowserSessionRow): Promise<Principal> {
  const login = { id: session.id, expiresAt: session.expiresAt, workspaceId: session.workspaceId };
  if (!session.userId) {
    // A master-key login works in the workspace it switched to.
    const chosen =
      session.workspaceId && (await getWorkspace(session.workspaceId)) ? session.workspaceId : null;
    return masterPrincipal(chosen, login);
  }
  return userPrincipal(session.userId, login);
}

/** The caller of a request: `Authorization: Bearer` (master key or `hgr_` key), `x-api-key`, or the login cookie. */
export async function authenticate(req: RequestLike): Promise<Principal> {
  const authorization = req.headers.get("authorization");
  const apiKeyHeader = req.headers.get("x-api-key")?.trim();
  if (authorization || apiKeyHeader) {
    const token = authorization ? bearerToken(authorization) : apiKeyHeader;
    if (!token) throw new ApiError("unauthorized", "Invalid credentials");
    if (isApiKey(token)) return keyPrincipal(token);
    if (!isMasterKey(token)) throw new ApiError("unauthorized", "Invalid credentials");
    const workspace = req.headers.get(WORKSPACE_HEADER) ?? req.headers.get(ANTHROPIC_WORKSPACE_HEADER);
    return masterPrincipal(workspace?.trim(), null);
  }
  const cookie = readCookie(req.headers.get("cookie"), sessionCookieName(isHttps(req)));
  if (cookie) {
    const session = await readBrowserSession(cookie);
    if (!session) throw new ApiError("unauthorized", "Your login has expired: log in again");
    if (UNSAFE.has(req.method)) assertSameOrigin(req);
    return principalOfLogin(session);
  }
  throw new ApiError(
    "unauthorized",
    "Missing credentials: send Authorization: Bearer <API key or master key>, or x-api-key",
  );
}
