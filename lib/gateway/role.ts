import { getLiveSessionEgress } from "@/db/queries/sessions";
import { ConfigError } from "@/lib/config";
import { describeListenTarget, parseListenTarget, type ListenTarget } from "@/lib/listen";
import { log } from "@/lib/log";
import { listenSharedModelEndpoint } from "@/lib/models/endpoint";
import { runtime } from "@/lib/runtime";
import { compileEgressPolicy, type EgressPolicy } from "@/lib/sandbox/egress/policy";
import { createEgressProxy, egressDeniedEvent } from "@/lib/sandbox/egress/proxy";
import { testResolver } from "@/lib/sandbox/egress/test-hook-resolver";
import { secretsMatch } from "@/lib/sandbox/egress/wire";
import { appendEvent } from "@/lib/sessions/events";
import { egressPassword } from "@/lib/sessions/harness-secrets";

/*
 * The gateway role (HANGAR_ROLE=gateway): the same Hangar code, run as the one in-cluster Deployment
 * sandbox pods may reach (a default-deny NetworkPolicy allows only it and DNS). It serves two shared
 * listeners and nothing else (no pages, no API, no session service):
 * - the egress proxy: each request names its session with the session's proxy password
 *   (`http://<sessionId>:<egressPassword>@gateway:3128`) and gets that session's allow/deny policy,
 *   read from the database while the session is live;
 * - the model endpoint: the per-session model token is looked up among live sessions by its hash, and
 *   the request is forwarded with the platform's key.
 * Denied destinations become `egress_denied` events of their session, exactly as on the local drivers.
 */

/** How long a session's policy is reused; a stopped session is refused at most this long after. */
export const POLICY_CACHE_MS = 2_000;

export type GatewayRole = {
  egress: ListenTarget;
  model: ListenTarget;
  close: () => Promise<void>;
};

/**
 * A short-lived cache of live sessions' policies, so a burst of connections from one sandbox costs one
 * query. Concurrent misses share one lookup; failed lookups are not kept.
 */
export function createPolicyCache(
  load: (sessionId: string) => Promise<EgressPolicy | null>,
  ttlMs = POLICY_CACHE_MS,
  now: () => number = Date.now,
) {
  const entries = new Map<string, { at: number; value: Promise<EgressPolicy | null> }>();
  return (sessionId: string): Promise<EgressPolicy | null> => {
    const hit = entries.get(sessionId);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    if (entries.size >= 10_000) {
      for (const [id, entry] of entries) if (now() - entry.at >= ttlMs) entries.delete(id);
    }
    const value = load(sessionId);
    const entry = { at: now(), value };
    entries.set(sessionId, entry);
    value.catch(() => {
      if (entries.get(sessionId) === entry) entries.delete(sessionId);
    });
    return value;
  };
}

async function livePolicy(sessionId: string): Promise<EgressPolicy | null> {
  const egress = await getLiveSessionEgress(sessionId);
  return egress ? compileEgressPolicy({ allow: egress.allowOut, deny: egress.denyOut }) : null;
}

/** Starts both shared listeners; the runtime (config, keys, database) must be initialised. */
export async function startGatewayRole(): Promise<GatewayRole> {
  const rt = runtime();
  const config = rt.config;
  if (rt.dbKind !== "postgres") {
    throw new ConfigError(
      "HANGAR_ROLE=gateway needs DATABASE_URL: the gateway reads the web role's sessions, and an " +
        "embedded database cannot be shared between processes",
    );
  }
  let egressTarget: ListenTarget;
  let modelTarget: ListenTarget;
  try {
    egressTarget = parseListenTarget(config.HANGAR_GATEWAY_EGRESS_LISTEN, config.HOST);
    modelTarget = parseListenTarget(config.HANGAR_GATEWAY_MODEL_LISTEN, config.HOST);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  HANGAR_GATEWAY_*_LISTEN: ${(err as Error).message}`);
  }

  const proxy = createEgressProxy({
    onDecision: (decision) => {
      if (decision.allowed) {
        log.debug("egress allowed", {
          sessionId: decision.sessionId,
          host: decision.host,
          port: decision.port,
        });
        return;
      }
      appendEvent(decision.sessionId, "egress_denied", egressDeniedEvent(decision)).catch((err: unknown) =>
        log.error("event append failed", { sessionId: decision.sessionId, err }),
      );
    },
    resolve: testResolver(config.HANGAR_TEST_HOSTS),
  });
  const egress = await proxy.listenShared(egressTarget, {
    checkPassword: (sessionId, password) => secretsMatch(password, egressPassword(sessionId)),
    policyFor: createPolicyCache(livePolicy),
  });
  let model: Awaited<ReturnType<typeof listenSharedModelEndpoint>>;
  try {
    model = await listenSharedModelEndpoint(modelTarget);
  } catch (err) {
    await proxy.closeAll();
    throw err;
  }
  log.info("gateway listening", {
    egress: describeListenTarget(egress.target),
    model: describeListenTarget(model.target),
    database: rt.dbKind,
  });
  return {
    egress: egress.target,
    model: model.target,
    close: async () => {
      await Promise.all([proxy.closeAll(), model.close()]);
    },
  };
}
