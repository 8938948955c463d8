"use client";

import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";

import { Button } from "@/components/ui/button";
import { Dialog, FormDialogButtons } from "@/components/ui/dialog";
import { describedBy, Field, FieldError } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { agentQueries } from "@/lib/api-client/agents";
import { useCreateApiKey } from "@/lib/api-client/api-keys";
import { applyServerErrors, useZodForm } from "@/lib/hooks/use-zod-form";
import { createApiKeySchema, type CreatedApiKey } from "@/lib/schemas/api-key";

import { roleSentence } from "./role-badge";
import { RoleSelect } from "./role-select";
import { ShownOnce } from "./shown-once";

const FIELDS = ["name", "role", "agent_ids", "expires_in_days"];

/**
 * Creates an API key. The answer holds the key, shown here once (the server keeps only its hash);
 * mounted only while open, so the key is dropped from memory once it closes.
 */
export function CreateApiKeyDialog({ onClose }: { onClose: () => void }) {
  const id = useId();
  const create = useCreateApiKey();
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useZodForm(createApiKeySchema, {
    defaultValues: { name: "", role: "operator", agent_ids: null, expires_in_days: null },
  });
  const errors = form.formState.errors;
  const role = form.watch("role");

  const onSubmit = form.handleSubmit(async (values) => {
    setFailure(null);
    try {
      setCreated(await create.mutateAsync(values));
    } catch (err) {
      setFailure(applyServerErrors(form, err, FIELDS));
    }
  });

  if (created)
    return (
      <Dialog
        open
        onClose={onClose}
        title={`API key ${created.name}`}
        footer={
          <Button variant="primary" onClick={onClose} autoFocus>
            Done
          </Button>
        }
      >
        <div className="flex flex-col gap-3">
          <ShownOnce
            copyLabel="Copy the API key"
            label="API key"
            value={created.key}
            warning="Copy the key now: you will not see it again. Hangar keeps only a hash of it."
          />
          <p>
            Send it as <code className="font-mono text-fg">Authorization: Bearer hgr_…</code> or{" "}
            <code className="font-mono text-fg">x-api-key</code>. Revoke it here when it is no longer needed.
          </p>
        </div>
      </Dialog>
    );

  return (
    <Dialog
      open
      onClose={onClose}
      size="lg"
      title="New API key"
      footer={
        <FormDialogButtons
          formId={`${id}-form`}
          label="Create key"
          busyLabel="Creating…"
          busy={form.formState.isSubmitting}
          onCancel={onClose}
        />
      }
    >
      <form id={`${id}-form`} onSubmit={onSubmit} noValidate className="flex flex-col gap-4">
        <Field
          id={`${id}-name`}
          label="Name"
          hint="What uses it, e.g. “CI nightly”."
          error={errors.name?.message}
        >
          <Input
            autoComplete="off"
            autoFocus
            {...describedBy(`${id}-name`, errors.name?.message)}
            {...form.register("name")}
          />
        </Field>
        <Field
          id={`${id}-role`}
          label="Role"
          hint={role ? roleSentence(role, "key") : undefined}
          error={errors.role?.message}
        >
          <RoleSelect {...describedBy(`${id}-role`, errors.role?.message)} {...form.register("role")} />
        </Field>
        <AgentAllowList
          value={form.watch("agent_ids") ?? null}
          onChange={(ids) => form.setValue("agent_ids", ids, { shouldValidate: form.formState.isSubmitted })}
          error={errors.agent_ids?.message}
        />
        <Field
          id={`${id}-expiry`}
          label={
            <>
              Expires after (days) <span className="font-normal text-fg-muted">(optional)</span>
            </>
          }
          hint="Empty for a key that does not expire."
          error={errors.expires_in_days?.message}
        >
          <Input
            type="number"
            inputMode="numeric"
            min={1}
            max={3650}
            className="w-32"
            {...describedBy(`${id}-expiry`, errors.expires_in_days?.message)}
            {...form.register("expires_in_days", {
              setValueAs: (v: unknown) => (v === "" || v === null || v === undefined ? null : Number(v)),
            })}
          />
        </Field>
        <FieldError message={failure ?? undefined} />
      </form>
    </Dialog>
  );
}

/** Every agent of the workspace, or only the ticked ones (and their sessions). */
function AgentAllowList({
  value,
  onChange,
  error,
}: {
  value: string[] | null;
  onChange: (ids: string[] | null) => void;
  error?: string;
}) {
  const id = useId();
  const agents = useQuery(agentQueries.list({ limit: 200, sort: "name", order: "asc" }));
  const limited = value !== null;
  const list = agents.data?.data ?? [];
  return (
    <fieldset className="flex flex-col gap-2" aria-describedby={error ? `${id}-error` : undefined}>
      <legend className="mb-1.5 text-xs font-medium text-fg">Agents</legend>
      <label className="flex items-center gap-2 text-[13px] text-fg">
        <input type="radio" name={`${id}-scope`} checked={!limited} onChange={() => onChange(null)} />
        Every agent of the workspace
      </label>
      <label className="flex items-center gap-2 text-[13px] text-fg">
        <input type="radio" name={`${id}-scope`} checked={limited} onChange={() => onChange([])} />
        Only these agents and their sessions
      </label>
      {limited && (
        <div
          role="group"
          aria-label="Agents this key may reach"
          className="ml-6 flex max-h-48 flex-col gap-1 overflow-y-auto rounded-md border border-border p-2"
        >
          {agents.error && (
            <p className="text-xs text-danger">Could not load agents: {agents.error.message}</p>
          )}
          {agents.data && list.length === 0 && <p className="text-xs text-fg-muted">No agents yet.</p>}
          {list.map((agent) => (
            <label key={agent.id} className="flex min-w-0 items-center gap-2 text-[13px] text-fg">
              <input
                type="checkbox"
                checked={value.includes(agent.id)}
                onChange={(e) =>
                  onChange(e.target.checked ? [...value, agent.id] : value.filter((a) => a !== agent.id))
                }
              />
              <span className="truncate">{agent.name ?? "Untitled agent"}</span>
              <span className="truncate font-mono text-[11px] text-fg-subtle">{agent.id}</span>
            </label>
          ))}
        </div>
      )}
      <FieldError id={`${id}-error`} message={error} />
    </fieldset>
  );
}
