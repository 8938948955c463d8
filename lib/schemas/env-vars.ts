import { z } from "zod";

export const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const ENV_VARS_MAX_KEYS = 50;
export const ENV_VARS_MAX_BYTES = 16 * 1024;

/** Keys Hangar sets itself in every sandbox; a caller may not override them. */
export const RESERVED_ENV_KEYS = [
  "REPO_URL",
  "BRANCH",
  "LITELLM_API_KEY",
  "LITELLM_API_BASE",
  "LITELLM_DEFAULT_MODEL",
  "AGENT_PROMPT",
  "PORT",
  "GIT_TOKEN",
  "AGENT_REQUIREMENTS",
] as const;

type ReservedEnvKey = (typeof RESERVED_ENV_KEYS)[number];

const RESERVED = new Set<string>(RESERVED_ENV_KEYS);

/**
 * What the API returns in place of every stored env var value. Values are write-only: sending the
 * mask back in a PATCH keeps the stored value.
 */
export const SECRET_MASK = "********";

export function utf8Length(value: string): number {
  return new TextEncoder().encode(value).length;
}

/** Problems with one env var key, or null; shared by the schema and the form's live checks. */
export function envKeyProblem(key: string, allowed: readonly string[] = []): string | null {
  if (!ENV_KEY_PATTERN.test(key))
    return `${key || "(empty)"} is not a valid name: use letters, digits and _, not starting with a digit`;
  if (RESERVED.has(key) && !allowed.includes(key))
    return `${key} is reserved: Hangar sets it in every sandbox`;
  return null;
}

const envVarsSchemaAllowing = (allowed: readonly string[]) =>
  z.record(z.string(), z.string()).superRefine((vars, ctx) => {
    const keys = Object.keys(vars);
    if (keys.length > ENV_VARS_MAX_KEYS) {
      ctx.addIssue({ code: "custom", message: `at most ${ENV_VARS_MAX_KEYS} env vars (got ${keys.length})` });
    }
    const bytes = utf8Length(JSON.stringify(vars));
    if (bytes > ENV_VARS_MAX_BYTES) {
      ctx.addIssue({
        code: "custom",
        message: `env vars take ${bytes} bytes as JSON; the limit is ${ENV_VARS_MAX_BYTES}`,
      });
    }
    for (const [key, value] of Object.entries(vars)) {
      const problem = envKeyProblem(key, allowed);
      if (problem) ctx.addIssue({ code: "custom", path: [key], message: problem });
      if (value.includes("\0"))
        ctx.addIssue({ code: "custom", path: [key], message: `${key} contains a NUL byte` });
    }
  });

export const envVarsSchema = envVarsSchemaAllowing([]);

/**
 * Reserved keys that per-session env vars may carry anyway: GIT_TOKEN is used for the clone only,
 * then removed, and like every per-session value it is never stored. The session schema below and
 * the session forms' live checks both read this list.
 */
export const SESSION_ALLOWED_RESERVED_ENV_KEYS = ["GIT_TOKEN"] as const satisfies readonly ReservedEnvKey[];

export const sessionEnvVarsSchema = envVarsSchemaAllowing(SESSION_ALLOWED_RESERVED_ENV_KEYS);

export type EnvVars = z.infer<typeof envVarsSchema>;
