"use client";

import { useId, useState } from "react";

import { Button } from "@/components/ui/button";
import { Dialog, FormDialogButtons } from "@/components/ui/dialog";
import { describedBy, Field, FieldError } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Select } from "@/components/ui/select";
import { useCreateInvite } from "@/lib/api-client/members";
import { applyServerErrors, useZodForm } from "@/lib/hooks/use-zod-form";
import { createInviteSchema, type CreatedInvite } from "@/lib/schemas/member";

import { roleSentence } from "./role-badge";
import { RoleSelect } from "./role-select";
import { ShownOnce } from "./shown-once";

const EXPIRIES = [
  { hours: 24, label: "1 day" },
  { hours: 72, label: "3 days" },
  { hours: 24 * 7, label: "7 days" },
  { hours: 24 * 30, label: "30 days" },
];

/**
 * Invites someone by email. The answer holds the one-time link, shown here once: the server keeps
 * only its hash. Mounted only while open, so the link is gone once it closes.
 */
export function InviteDialog({ onClose }: { onClose: () => void }) {
  const id = useId();
  const create = useCreateInvite();
  const [created, setCreated] = useState<CreatedInvite | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useZodForm(createInviteSchema, {
    defaultValues: { email: "", role: "viewer", expires_in_hours: 72 },
  });
  const errors = form.formState.errors;
  const role = form.watch("role") ?? "viewer";

  const onSubmit = form.handleSubmit(async (values) => {
    setFailure(null);
    try {
      setCreated(await create.mutateAsync(values));
    } catch (err) {
      setFailure(applyServerErrors(form, err, ["email", "role", "expires_in_hours"]));
    }
  });

  if (created)
    return (
      <Dialog
        open
        onClose={onClose}
        title={`Invite link for ${created.email}`}
        footer={
          <Button variant="primary" onClick={onClose} autoFocus>
            Done
          </Button>
        }
      >
        <div className="flex flex-col gap-3">
          <p>
            Send this link to <span className="font-medium text-fg">{created.email}</span>. It works once,
            until {new Date(created.expires_at).toLocaleString()}.
          </p>
          <ShownOnce
            copyLabel="Copy the invite link"
            label="Invite link"
            value={created.url}
            warning="Copy it now: you will not see this link again. If it is lost, revoke the invite and send a new one."
          />
        </div>
      </Dialog>
    );

  return (
    <Dialog
      open
      onClose={onClose}
      title="Invite a member"
      footer={
        <FormDialogButtons
          formId={`${id}-form`}
          label="Create invite link"
          busyLabel="Inviting…"
          busy={form.formState.isSubmitting}
          onCancel={onClose}
        />
      }
    >
      <form id={`${id}-form`} onSubmit={onSubmit} noValidate className="flex flex-col gap-4">
        <Field id={`${id}-email`} label="Email" error={errors.email?.message}>
          <Input
            type="email"
            autoComplete="off"
            autoFocus
            {...describedBy(`${id}-email`, errors.email?.message)}
            {...form.register("email")}
          />
        </Field>
        <Field id={`${id}-role`} label="Role" hint={roleSentence(role)} error={errors.role?.message}>
          <RoleSelect {...describedBy(`${id}-role`, errors.role?.message)} {...form.register("role")} />
        </Field>
        <Field id={`${id}-expiry`} label="Link expires after" error={errors.expires_in_hours?.message}>
          <Select
            {...describedBy(`${id}-expiry`, errors.expires_in_hours?.message)}
            {...form.register("expires_in_hours", { setValueAs: Number })}
          >
            {EXPIRIES.map((e) => (
              <option key={e.hours} value={e.hours}>
                {e.label}
              </option>
            ))}
          </Select>
        </Field>
        <FieldError message={failure ?? undefined} />
      </form>
    </Dialog>
  );
}
