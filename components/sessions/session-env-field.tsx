"use client";

import { EnvVarEditor } from "@/components/agents/env-var-editor";
import { ApiClientError } from "@/lib/api-client/fetcher";

/** Per-session env vars: write-only, never stored, so there is never a stored value to show. */
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
  return (
    <fieldset className="flex min-w-0 flex-col gap-2">
      <legend className="mb-1 text-xs font-medium text-fg">
        Per-session env vars <span className="font-normal text-fg-muted">(optional)</span>
      </legend>
      <p className="text-xs text-fg-muted">
        They override the agent&apos;s, reach only this sandbox and are never stored or shown again.
      </p>
      <EnvVarEditor value={value} onChange={onChange} storedKeys={[]} errors={errors} formError={formError} />
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
