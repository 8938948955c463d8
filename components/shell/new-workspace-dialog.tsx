"use client";

import { useId, useState } from "react";

import { Dialog, FormDialogButtons } from "@/components/ui/dialog";
import { describedBy, Field, FieldError } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { useSwitchWorkspace } from "@/lib/api-client/auth";
import { useCreateWorkspace } from "@/lib/api-client/workspaces";
import { applyServerErrors, useZodForm } from "@/lib/hooks/use-zod-form";
import { createWorkspaceSchema } from "@/lib/schemas/workspace";

/** Names a new workspace (its creator is its first admin), then switches the login to it. */
export function NewWorkspaceDialog({ onClose }: { onClose: () => void }) {
  const id = useId();
  const create = useCreateWorkspace();
  const enter = useSwitchWorkspace();
  const [failure, setFailure] = useState<string | null>(null);
  const form = useZodForm(createWorkspaceSchema, { defaultValues: { name: "" } });
  const error = form.formState.errors.name?.message;

  const onSubmit = form.handleSubmit(async (values) => {
    setFailure(null);
    try {
      const workspace = await create.mutateAsync(values);
      await enter.mutateAsync(workspace.id);
    } catch (err) {
      setFailure(applyServerErrors(form, err, ["name"]));
    }
  });

  return (
    <Dialog
      open
      onClose={onClose}
      title="New workspace"
      footer={
        <FormDialogButtons
          formId={`${id}-form`}
          label="Create and switch"
          busyLabel="Creating…"
          busy={form.formState.isSubmitting}
          onCancel={onClose}
        />
      }
    >
      <form id={`${id}-form`} onSubmit={onSubmit} noValidate className="flex flex-col gap-4">
        <p>
          A workspace has its own agents, skills, sessions, members, API keys and audit log. You will be its
          first admin.
        </p>
        <Field id={`${id}-name`} label="Name" error={error}>
          <Input
            autoComplete="off"
            autoFocus
            {...describedBy(`${id}-name`, error)}
            {...form.register("name")}
          />
        </Field>
        <FieldError message={failure ?? undefined} />
      </form>
    </Dialog>
  );
}
