"use client";

import { useRouter } from "next/navigation";
import { useId, useState } from "react";

import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { describedBy, Field, FieldError } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { useCreateSession } from "@/lib/api-client/sessions";
import { createSessionSchema } from "@/lib/schemas/session";

import { envErrorsOf, SessionEnvField } from "./session-env-field";

type Draft = { title: string; initial_prompt: string; env_vars: Record<string, string> };

/** Issues by top-level field; env var issues by key under `env_vars`. */
function issuesOf(issues: { path: PropertyKey[]; message: string }[]) {
  const fields: Record<string, string> = {};
  const env: Record<string, string> = {};
  for (const issue of issues) {
    const [top, key] = issue.path.map(String);
    if (top === "env_vars" && key) env[key] ??= issue.message;
    else if (top) fields[top] ??= issue.message;
  }
  return { fields, env };
}

/**
 * Starts a session of one agent: title, optional first prompt, per-session env vars. Mounted only
 * while open, so secrets typed here are dropped once it closes. On success, opens the viewer.
 */
export function NewSessionDialog({
  agentId,
  agentName,
  onClose,
}: {
  agentId: string;
  agentName: string;
  onClose: () => void;
}) {
  const id = useId();
  const router = useRouter();
  const create = useCreateSession(agentId);
  const [draft, setDraft] = useState<Draft>({ title: "", initial_prompt: "", env_vars: {} });
  const [local, setLocal] = useState<ReturnType<typeof issuesOf>>({ fields: {}, env: {} });
  const server = envErrorsOf(create.error);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  const titleError = local.fields.title;
  const promptError = local.fields.initial_prompt;

  return (
    <Dialog
      open
      onClose={onClose}
      size="lg"
      title={`New session of ${agentName}`}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant="primary"
            type="submit"
            form={`${id}-form`}
            disabled={create.isPending || create.isSuccess}
          >
            {create.isPending || create.isSuccess ? "Starting…" : "Start session"}
          </Button>
        </>
      }
    >
      <form
        id={`${id}-form`}
        noValidate
        className="flex flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          const input = {
            title: draft.title.trim() || undefined,
            initial_prompt: draft.initial_prompt.trim() ? draft.initial_prompt : undefined,
            env_vars: draft.env_vars,
          };
          const parsed = createSessionSchema.safeParse(input);
          setLocal(parsed.success ? { fields: {}, env: {} } : issuesOf(parsed.error.issues));
          if (!parsed.success) return;
          create.mutate(input, { onSuccess: (session) => router.push(`/sessions/${session.id}`) });
        }}
      >
        <Field id={`${id}-title`} label="Title" hint="Shown in the sessions list." error={titleError}>
          <Input
            {...describedBy(`${id}-title`, titleError)}
            value={draft.title}
            onChange={(e) => set({ title: e.target.value })}
            placeholder="Fix the flaky login test"
            autoComplete="off"
            autoFocus
          />
        </Field>
        <Field
          id={`${id}-prompt`}
          label={
            <>
              Initial prompt <span className="font-normal text-fg-muted">(optional)</span>
            </>
          }
          hint="Queued as the session’s first message."
          error={promptError}
        >
          <Textarea
            {...describedBy(`${id}-prompt`, promptError)}
            value={draft.initial_prompt}
            onChange={(e) => set({ initial_prompt: e.target.value })}
            rows={4}
          />
        </Field>
        <SessionEnvField
          value={draft.env_vars}
          onChange={(env_vars) => set({ env_vars })}
          errors={{ ...server.byKey, ...local.env }}
        />
        <FieldError message={server.other ?? undefined} />
      </form>
    </Dialog>
  );
}
