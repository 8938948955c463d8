import path from "node:path";

import { z } from "zod";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** An on/off setting: 1/true/yes/on or 0/false/no/off (empty is off). */
function flag(name: string) {
  return z
    .string()
    .default("0")
    .transform((v) => v.trim().toLowerCase())
    .pipe(
      z.enum(["", "0", "1", "false", "true", "no", "yes", "off", "on"], {
        message: `${name} must be 1/true/yes/on or 0/false/no/off`,
      }),
    )
    .transform((v) => ["1", "true", "yes", "on"].includes(v));
}

/** A warm pool's size: sandboxes kept booted for one harness. */
function poolSize(fallback: number) {
  return z.coerce.number().int().min(0).max(64).default(fallback);
}

const configSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().default("127.0.0.1"),
  MASTER_KEY: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: "MASTER_KEY must be at least 16 characters (or unset it to have one generated)",
  }),
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message:
      "DATABASE_URL must be a postgres:// or postgresql:// URL (or unset it for the embedded database)",
  }),
  HANGAR_DATA_DIR: z.string().default("./.hangar"),
  HANGAR_ENCRYPTION_KEY: optionalString.refine(
    (v) => v === undefined || Buffer.from(v, "base64").length === 32 || /^[0-9a-f]{64}$/i.test(v),
    { message: "HANGAR_ENCRYPTION_KEY must be 32 bytes, as base64 or 64 hex digits" },
  ),
  HANGAR_SESSION_TTL_HOURS: z.coerce
    .number()
    .min(0.01)
    .max(24 * 30)
    .default(12),
  LITELLM_API_BASE: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), {
    message: "LITELLM_API_BASE must be an http(s) URL",
  }),
  LITELLM_API_KEY: optionalString,
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  HANGAR_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  HANGAR_IDLE_TIMEOUT_MINUTES: z.coerce
    .number()
    .min(0.05)
    .max(7 * 24 * 60)
    .default(30),
  HANGAR_SANDBOX_DRIVER: z.enum(["local", "process", "kubernetes"]).optional(),
  /** `web` serves the app and API; `gateway` runs only the shared egress proxy and model endpoint. */
  HANGAR_ROLE: z.enum(["web", "gateway"]).default("web"),
  /**
   * Behind one reverse proxy that terminates TLS: believe its `X-Forwarded-Proto` (HSTS, the `__Host-`
   * cookie), the last `X-Forwarded-For` entry (login rate limit) and `X-Forwarded-Host` (the Origin
   * checks). Off: they are the client's word, and ignored.
   */
  HANGAR_TRUST_PROXY: flag("HANGAR_TRUST_PROXY"),
  /** Gateway role: where the egress proxy and the model endpoint listen (a port, or a Unix socket path). */
  HANGAR_GATEWAY_EGRESS_LISTEN: z.string().default("3128"),
  HANGAR_GATEWAY_MODEL_LISTEN: z.string().default("4000"),
  /** Kubernetes driver: the namespace sandboxes run in, and the image they run. */
  HANGAR_K8S_NAMESPACE: z.string().default("hangar-sandboxes"),
  HANGAR_K8S_IMAGE: z.string().default("ghcr.io/hangar-dev/hangar-sandbox:0.1.0"),
  /** Kubernetes driver: how sandbox pods reach the gateway (host name; ports as below). */
  HANGAR_K8S_GATEWAY_HOST: z.string().default("hangar-gateway.hangar.svc.cluster.local"),
  HANGAR_K8S_GATEWAY_EGRESS_PORT: z.coerce.number().int().min(1).max(65535).default(3128),
  HANGAR_K8S_GATEWAY_MODEL_PORT: z.coerce.number().int().min(1).max(65535).default(4000),
  /** Kubernetes driver: `auto` uses agent-sandbox Sandbox resources when their CRD is served, else Pods. */
  HANGAR_K8S_MODE: z.enum(["auto", "sandbox", "pod"]).default("auto"),
  /** Kubernetes driver: a label value that tells this installation's sandboxes from another's. */
  HANGAR_K8S_INSTANCE: z.string().default("hangar"),
  /** Kubernetes driver: optional RuntimeClass (gVisor, Kata) for sandbox pods. */
  HANGAR_K8S_RUNTIME_CLASS: optionalString,
  /** A turn with no harness output for this long gets a `stalled` event (and another each period). */
  HANGAR_TURN_STALL_SECONDS: z.coerce.number().min(1).max(3600).default(60),
  HANGAR_SESSION_MEMORY_MIB: z.coerce
    .number()
    .int()
    .min(64)
    .max(1024 * 1024)
    .default(4096),
  HANGAR_SESSION_PIDS: z.coerce.number().int().min(16).max(1_000_000).default(512),
  /**
   * Warm pool (lib/sessions/pool.ts): sandboxes per harness kept booted, harness running, for a new
   * session of any agent to claim and bind late. 0 turns a harness's pool off.
   */
  HANGAR_POOL_OPENCODE: poolSize(2),
  HANGAR_POOL_CLAUDE_AGENT_SDK: poolSize(1),
  HANGAR_POOL_CLAUDE_CODE: poolSize(1),
  HANGAR_POOL_CODEX: poolSize(1),
  /**
   * Sandboxes booting at once on this host (lib/sessions/boot-permits.ts): sessions first, then the
   * pool's refills; more wait in a queue. 0: twice the cores, at least 2.
   */
  HANGAR_BOOT_CONCURRENCY: z.coerce.number().int().min(0).max(1024).default(0),
  /** Kubernetes driver: the CPU limit of a sandbox pod, in cores (0.5 is half a core). */
  HANGAR_SESSION_CPU: z.coerce.number().min(0.05).max(1024).default(2),
  /** Kubernetes driver: the disk a sandbox pod may fill (ephemeral storage: home, tmp, logs), MiB. */
  HANGAR_SESSION_DISK_MIB: z.coerce
    .number()
    .int()
    .min(256)
    .max(64 * 1024 * 1024)
    .default(10240),
  /**
   * Kubernetes driver: run sandbox pods in their own user namespace (`hostUsers: false`; Kubernetes
   * 1.33+, or 1.30+ with the UserNamespacesSupport gate, and a runtime that supports it). Then the
   * pod's uid 1000 is no other pod's, and HANGAR_SESSION_PIDS caps each pod alone.
   */
  HANGAR_K8S_USER_NAMESPACES: flag("HANGAR_K8S_USER_NAMESPACES"),
  /** Test-only: "name=ip,…" for the egress proxy's resolver. */
  HANGAR_TEST_HOSTS: optionalString,
  /**
   * Optional sign-in with an OpenID Connect provider (README "Sign-in with OIDC"): the issuer, and
   * the client registered there. The three go together; the secret is never logged or echoed.
   */
  HANGAR_OIDC_ISSUER: optionalString.refine((v) => v === undefined || isIssuerUrl(v), {
    message:
      "HANGAR_OIDC_ISSUER must be the provider's https:// issuer URL (http:// only on localhost), without query or fragment",
  }),
  HANGAR_OIDC_CLIENT_ID: optionalString,
  HANGAR_OIDC_CLIENT_SECRET: optionalString,
  /** The sign-in button says "Sign in with <name>"; the issuer's host name when unset. */
  HANGAR_OIDC_NAME: optionalString.refine((v) => v === undefined || v.length <= 60, {
    message: "HANGAR_OIDC_NAME must be at most 60 characters",
  }),
  HANGAR_OIDC_SCOPES: optionalString.refine((v) => v === undefined || v.split(/\s+/).includes("openid"), {
    message: 'HANGAR_OIDC_SCOPES must include "openid" (the default is "openid email profile")',
  }),
});

const OIDC_REQUIRED = ["HANGAR_OIDC_ISSUER", "HANGAR_OIDC_CLIENT_ID", "HANGAR_OIDC_CLIENT_SECRET"] as const;
const OIDC_OPTIONAL = ["HANGAR_OIDC_NAME", "HANGAR_OIDC_SCOPES"] as const;

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

function isIssuerUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.search || url.hash || url.username || url.password) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
}

/** The OIDC settings named together: the missing ones are reported by name, never their values. */
function checkOidcTogether(env: RawConfig): string[] {
  const given = [...OIDC_REQUIRED, ...OIDC_OPTIONAL].filter((name) => env[name] !== undefined);
  if (given.length === 0) return [];
  const missing = OIDC_REQUIRED.filter((name) => env[name] === undefined);
  if (missing.length === 0) return [];
  return [
    `  ${missing.join(", ")}: not set; OIDC sign-in needs HANGAR_OIDC_ISSUER, HANGAR_OIDC_CLIENT_ID and ` +
      `HANGAR_OIDC_CLIENT_SECRET together (${given.join(", ")} ${given.length === 1 ? "is" : "are"} set)`,
  ];
}

type RawConfig = z.output<typeof configSchema>;
export type Config = Omit<RawConfig, "HANGAR_DATA_DIR"> & { HANGAR_DATA_DIR: string };

/** A start-up failure with a known cause and fix: printed as its message alone, no stack. */
export class StartupError extends Error {}

export class ConfigError extends StartupError {}

export type OidcSettings = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The button label: "Sign in with <name>". */
  name: string;
  scopes: string;
};

export const DEFAULT_OIDC_SCOPES = "openid email profile";

/** The OIDC provider Hangar signs people in with, or null when none is configured. */
export function oidcSettings(config: Config): OidcSettings | null {
  const { HANGAR_OIDC_ISSUER: issuer, HANGAR_OIDC_CLIENT_ID: clientId } = config;
  const clientSecret = config.HANGAR_OIDC_CLIENT_SECRET;
  if (!issuer || !clientId || !clientSecret) return null;
  return {
    issuer,
    clientId,
    clientSecret,
    name: config.HANGAR_OIDC_NAME ?? new URL(issuer).hostname,
    scopes: (config.HANGAR_OIDC_SCOPES ?? DEFAULT_OIDC_SCOPES).split(/\s+/).join(" "),
  };
}

/** Reads and validates the environment once; a bad setting stops the start with a clear message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const oidc = checkOidcTogether(parsed.data);
  if (oidc.length > 0) throw new ConfigError(`Invalid configuration:\n${oidc.join("\n")}`);
  return { ...parsed.data, HANGAR_DATA_DIR: path.resolve(parsed.data.HANGAR_DATA_DIR) };
}
