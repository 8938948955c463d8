"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Controller } from "react-hook-form";

import { ChipInput } from "@/components/ui/chip-input";
import { Button } from "@/components/ui/button";
import { describedBy, Field, FieldError } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { Section } from "@/components/ui/page-header";
import { modelQueries } from "@/lib/api-client/models";
import { applyServerErrors, useZodForm } from "@/lib/hooks/use-zod-form";
import { useUnsavedChangesGuard } from "@/lib/hooks/use-unsaved-changes";
import { agentFormSchema, type AgentFormInput, type AgentFormValues } from "@/lib/schemas/agent";

import { EgressEditor } from "./egress-editor";
import { EnvVarEditor } from "./env-var-editor";
import { childMessages, fileMessages, ownMessage } from "./form-errors";
import { HarnessPicker } from "./harness-picker";
import { ModelPicker } from "./model-picker";
import { SandboxFilesEditor, storedFileHref } from "./sandbox-files-editor";
import { SkillAttachment } from "./skill-attachment";

const FIELDS = Object.keys(agentFormSchema.shape);
const emptyToNull = (v: unknown) => (v === "" ? null : v);

export type AgentFormProps = {
  defaultValues: AgentFormInput;
  /** Secrets the agent stores: their values show as the mask and can only be replaced or removed. */
  storedEnvKeys?: string[];
  /** Snapshot content of already attached skills, by id. */
  skillSnapshots?: Record<string, string>;
  agentId?: string;
  submitLabel: string;
  cancelHref: string;
  onSubmit: (values: AgentFormValues) => Promise<void>;
};

/** The agent builder: one form for create and edit. Submitting is the page's job (`onSubmit`). */
export function AgentForm({
  defaultValues,
  storedEnvKeys = [],
  skillSnapshots = {},
  agentId,
  submitLabel,
  cancelHref,
  onSubmit,
}: AgentFormProps) {
  const form = useZodForm(agentFormSchema, { defaultValues });
  const { register, control, formState } = form;
  const errors = formState.errors as Record<string, unknown>;
  const [formError, setFormError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const models = useQuery(modelQueries.list());
  useUnsavedChangesGuard(formState.isDirty && !saved);

  const submit = form.handleSubmit(
    async (values) => {
      setFormError(null);
      try {
        setSaved(true);
        await onSubmit(values);
      } catch (err) {
        setSaved(false);
        setFormError(applyServerErrors(form, err, FIELDS));
      }
    },
    () => setFormError("Some fields need attention (marked below)."),
  );

  const err = (name: string) => ownMessage(errors[name]);

  return (
    <form onSubmit={submit} noValidate className="px-6 pb-24">
      <Section id="basics" title="Basics" description="What runs, and which model it talks to.">
        <Field id="name" label="Name" hint="Shown in lists; need not be unique." error={err("name")}>
          <Input
            {...describedBy("name", err("name"))}
            placeholder="pr-reviewer"
            {...register("name", { setValueAs: emptyToNull })}
          />
        </Field>
        <Field
          id="model"
          label="Model"
          hint={
            models.data?.source === "builtin"
              ? "Built-in test model: no model gateway is configured (LITELLM_API_BASE), so sessions get " +
                "Hangar's scripted replies whatever model string you enter."
              : "A model string of the gateway, e.g. anthropic/claude-sonnet-4-6."
          }
          error={err("model")}
        >
          <Controller
            control={control}
            name="model"
            render={({ field }) => (
              <ModelPicker
                id="model"
                value={field.value ?? ""}
                onChange={field.onChange}
                models={models.data?.data ?? []}
                loading={models.isLoading}
                reason={models.data?.reason ?? null}
                invalid={Boolean(err("model"))}
                describedBy={err("model") ? "model-error" : "model-hint"}
              />
            )}
          />
        </Field>
        <div className="flex flex-col gap-1.5">
          <span id="harness-label" className="text-xs font-medium">
            Harness
          </span>
          <Controller
            control={control}
            name="harness_id"
            render={({ field }) => (
              <HarnessPicker name="harness_id" value={field.value ?? "opencode"} onChange={field.onChange} />
            )}
          />
          <FieldError message={err("harness_id")} />
        </div>
      </Section>

      <Section
        id="prompt"
        title="Prompt and skills"
        description="The system prompt every session starts with, then one block per attached skill."
      >
        <Field
          id="prompt-text"
          label="System prompt"
          hint="Leave empty for a general-purpose agent."
          error={err("prompt")}
        >
          <Textarea
            {...describedBy("prompt-text", err("prompt"))}
            rows={10}
            className="min-h-48 font-mono text-xs"
            placeholder="You are a senior engineer who reviews pull requests…"
            {...register("prompt", { setValueAs: emptyToNull })}
          />
        </Field>
        <div className="flex flex-col gap-1.5">
          <span className="text-xs font-medium">Skills</span>
          <Controller
            control={control}
            name="skill_ids"
            render={({ field }) => (
              <SkillAttachment
                value={field.value ?? []}
                onChange={field.onChange}
                snapshots={skillSnapshots}
                error={ownMessage(errors.skill_ids)}
              />
            )}
          />
        </div>
      </Section>

      <Section
        id="repo"
        title="Repository"
        description="Cloned into the sandbox when a session starts; requirements are pip-installed."
      >
        <div className="grid gap-4 sm:grid-cols-[1fr_180px]">
          <Field
            id="repo_url"
            label="Repository URL"
            hint="HTTPS only. Tokens go in env vars, never in the URL."
            error={err("repo_url")}
          >
            <Input
              {...describedBy("repo_url", err("repo_url"))}
              placeholder="https://github.com/org/repo"
              {...register("repo_url", { setValueAs: emptyToNull })}
            />
          </Field>
          <Field id="branch" label="Branch" error={err("branch")}>
            <Input {...describedBy("branch", err("branch"))} {...register("branch")} />
          </Field>
        </div>
        <Field
          id="requirements"
          label="Python requirements"
          hint="requirements.txt content, installed into a venv at boot."
          error={err("requirements")}
        >
          <Textarea
            {...describedBy("requirements", err("requirements"))}
            rows={4}
            className="font-mono text-xs"
            placeholder={"requests==2.32.3\nrich"}
            {...register("requirements", { setValueAs: emptyToNull })}
          />
        </Field>
      </Section>

      <Section
        id="env"
        title="Environment"
        description="Secrets and settings for every session. Values are write-only: once saved they can be replaced or removed, never read back."
      >
        <Controller
          control={control}
          name="env_vars"
          render={({ field }) => (
            <EnvVarEditor
              value={field.value ?? {}}
              onChange={field.onChange}
              storedKeys={storedEnvKeys}
              errors={childMessages(errors.env_vars)}
              formError={ownMessage(errors.env_vars)}
            />
          )}
        />
      </Section>

      <Section
        id="network"
        title="Network"
        description="Where the sandbox may connect. Enforced by Hangar's egress proxy."
      >
        <Controller
          control={control}
          name="allow_out"
          render={({ field: allow }) => (
            <Controller
              control={control}
              name="deny_out"
              render={({ field: deny }) => (
                <EgressEditor
                  allow={allow.value ?? []}
                  deny={deny.value ?? []}
                  gatewayHost={models.data?.gateway_host ?? null}
                  onChange={(next) => {
                    allow.onChange(next.allow);
                    deny.onChange(next.deny);
                  }}
                  errors={{
                    allow: childMessages(errors.allow_out),
                    deny: childMessages(errors.deny_out),
                    form: ownMessage(errors.allow_out) ?? ownMessage(errors.deny_out),
                  }}
                />
              )}
            />
          )}
        />
      </Section>

      <Section
        id="files"
        title="Sandbox files"
        description="Written into the sandbox before the harness starts. Up to 20 files, 10 MB in all."
      >
        <Controller
          control={control}
          name="sandbox_files"
          render={({ field }) => (
            <SandboxFilesEditor
              value={field.value ?? []}
              onChange={field.onChange}
              errors={fileMessages(errors.sandbox_files)}
              formError={ownMessage(errors.sandbox_files)}
              downloadHref={agentId ? storedFileHref(agentId, storedFiles(defaultValues)) : undefined}
            />
          )}
        />
      </Section>

      <Section
        id="mcp"
        title="MCP servers"
        description="Connection strings of MCP servers the harness may use."
      >
        <Controller
          control={control}
          name="mcp_servers"
          render={({ field }) => (
            <ChipInput
              id="mcp_servers"
              label="MCP servers"
              values={field.value ?? []}
              onChange={field.onChange}
              placeholder="Add a server and press Enter"
              errors={Object.fromEntries(
                Object.entries(childMessages(errors.mcp_servers)).map(([k, v]) => [Number(k), v]),
              )}
            />
          )}
        />
      </Section>

      <div className="sticky bottom-0 -mx-6 flex items-center justify-end gap-3 border-t border-border bg-bg/95 px-6 py-3 backdrop-blur">
        {formError && (
          <p role="alert" className="mr-auto text-xs text-danger">
            {formError}
          </p>
        )}
        <Link
          href={cancelHref}
          className="inline-flex h-8 items-center rounded-md px-3 text-[13px] text-fg-muted hover:bg-bg-muted hover:text-fg"
        >
          Cancel
        </Link>
        <Button type="submit" variant="primary" disabled={formState.isSubmitting}>
          {formState.isSubmitting ? "Saving…" : submitLabel}
        </Button>
      </div>
    </form>
  );
}

/** The files the agent stores, by position, as the download links need them. */
function storedFiles(values: AgentFormInput) {
  return (values.sandbox_files ?? []).flatMap((file, index) =>
    "sha256" in file ? [{ index, sha256: file.sha256 }] : [],
  );
}
