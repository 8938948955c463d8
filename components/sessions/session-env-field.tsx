"use client";

import { useId } from "react";

import { EnvVarEditor } from "@/components/agents/env-var-editor";
import { ApiClientError } from "@/lib/api-client/fetcher";
import { SESSION_ALLOWED_RESERVED_ENV_KEYS } from "@/lib/schemas/env-vars";

/**
 * Per-session env vars: write-only, never stored, so there is never a stored value to show. Unlike
 * an agent's, they may set GIT_TOKEN (the session schema allows it).
 */
export function SessionEnvField({
  value,
  onChange,
  errors,
  formError,
}: {
  value: Record<string, string>;
  onChange: (next: Record<string, string>) => void;
  errors?: Record<string, string>;
  formError?: string;
}) {
  const hintId = useId();
  return (
    <fieldset aria-describedby={hintId} className="flex min-w-0 flex-col gap-2">
      <legend className="mb-1 text-xs font-medium text-fg">
        Per-session env vars <span className="font-normal text-fg-muted">(optional)</span>
      </legend>
      <div id={hintId} className="flex flex-col gap-1 text-xs text-fg-muted">
        <p>They override the agent&apos;s, reach only this sandbox and are never stored or shown again.</p>
        <p>
          <code className="font-mono text-fg">GIT_TOKEN</code> is used to clone the agent&apos;s repository,
          then removed from the sandbox.
        </p>
      </div>
      <EnvVarEditor
        value={value}
        onChange={onChange}
        storedKeys={[]}
        allowedKeys={SESSION_ALLOWED_RESERVED_ENV_KEYS}
        errors={errors}
        formError={formError}
      />
    </fieldset>
  );
}

/** A 400's env var issues by key, and whatever else the server said as one message. */
export function envErrorsOf(err: unknown): { byKey: Record<string, string>; other: string | null } {
  if (!(err instanceof ApiClientError))
    return { byKey: {}, other: err ? "Something went wrong. Try again." : null };
  const byKey: Record<string, string> = {};
  let other: string | null = null;
  for (const issue of err.issues) {
    if (issue.path[0] === "env_vars" && issue.path.length > 1) byKey[String(issue.path[1])] = issue.message;
    else other ??= issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
  }
  if (err.issues.length === 0) other = err.message;
  return { byKey, other };
}
