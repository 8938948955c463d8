"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Controller } from "react-hook-form";

import { Button } from "@/components/ui/button";
import { describedBy, Field } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { Section } from "@/components/ui/page-header";
import { modelQueries } from "@/lib/api-client/models";
import { useUnsavedChangesGuard } from "@/lib/hooks/use-unsaved-changes";
import { applyServerErrors, useZodForm } from "@/lib/hooks/use-zod-form";
import { agentFormSchema, type AgentFormInput, type AgentFormValues } from "@/lib/schemas/agent";

import { BasicsSection, emptyToNull, SandboxSections } from "./agent-form-sections";
import { ownMessage } from "./form-errors";
import { SkillAttachment } from "./skill-attachment";

const FIELDS = Object.keys(agentFormSchema.shape);

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
      <BasicsSection form={form} errors={errors} models={models} />

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

      <SandboxSections
        form={form}
        errors={errors}
        models={models}
        storedEnvKeys={storedEnvKeys}
        agentId={agentId}
        defaultValues={defaultValues}
      />

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
