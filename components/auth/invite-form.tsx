"use client";

import { useQuery } from "@tanstack/react-query";
import { LinkIcon, UserPlus } from "lucide-react";
import { useState } from "react";

import { RoleBadge, roleSentence } from "@/components/teams/role-badge";
import { Button } from "@/components/ui/button";
import { describedBy, Field, FieldError } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { ApiClientError } from "@/lib/api-client/fetcher";
import { acceptInvite, memberQueries } from "@/lib/api-client/members";
import { applyServerErrors, useZodForm } from "@/lib/hooks/use-zod-form";
import { AFTER_LOGIN } from "@/lib/safe-next";
import {
  existingAccountFormSchema,
  newAccountFormSchema,
  PASSWORD_MIN,
  type InvitePreview,
} from "@/lib/schemas/member";

const CARD = "flex w-full max-w-sm flex-col gap-4 rounded-lg border border-border bg-bg p-6 shadow-sm";

/** The page an invite link opens: what it is for, then a new account (or the existing one's password). */
export function InviteForm({ token }: { token: string }) {
  const preview = useQuery(memberQueries.invitePreview(token));

  if (preview.error) {
    const dead = preview.error instanceof ApiClientError && preview.error.status === 404;
    return (
      <div className={CARD}>
        <Heading>{dead ? "This invite link does not work" : "The invite could not be loaded"}</Heading>
        <p role="alert" className="text-[13px] text-fg-muted">
          {dead
            ? "It is unknown, was already used, was revoked, or has expired. Ask an admin of the workspace for a new link."
            : preview.error.message}
        </p>
        <a href="/login" className="text-[13px] font-medium text-accent hover:underline">
          Go to the login page
        </a>
      </div>
    );
  }
  if (!preview.data) return <div className={CARD} aria-busy="true" />;
  return <AcceptInvite token={token} invite={preview.data} />;
}

function Heading({ children }: { children: string }) {
  return (
    <div className="flex items-center gap-2">
      <div
        aria-hidden
        className="grid h-7 w-7 place-items-center rounded-md bg-accent text-xs font-bold text-accent-fg"
      >
        H
      </div>
      <h1 className="text-base font-semibold">{children}</h1>
    </div>
  );
}

function AcceptInvite({ token, invite }: { token: string; invite: InvitePreview }) {
  return (
    <div className={CARD}>
      <Heading>{`Join ${invite.workspace_name}`}</Heading>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 rounded-md border border-border bg-bg-subtle p-3 text-[13px]">
        <dt className="text-fg-muted">Workspace</dt>
        <dd className="min-w-0 truncate font-medium">{invite.workspace_name}</dd>
        <dt className="text-fg-muted">Email</dt>
        <dd className="min-w-0 truncate">{invite.email}</dd>
        <dt className="text-fg-muted">Role</dt>
        <dd className="flex min-w-0 flex-col items-start gap-1">
          <RoleBadge role={invite.role} />
          <span className="text-xs text-fg-muted">{roleSentence(invite.role)}</span>
        </dd>
      </dl>
      {invite.existing_user ? <ExistingAccount token={token} /> : <NewAccount token={token} />}
    </div>
  );
}

async function accept(token: string, input: { name?: string; password: string }) {
  await acceptInvite(token, input);
  // A full load, so the app's layout sees the new login cookie.
  window.location.assign(AFTER_LOGIN);
}

function NewAccount({ token }: { token: string }) {
  const form = useZodForm(newAccountFormSchema, { defaultValues: { name: "", password: "", confirm: "" } });
  const [failure, setFailure] = useState<string | null>(null);
  const errors = form.formState.errors;

  const onSubmit = form.handleSubmit(async ({ name, password }) => {
    setFailure(null);
    try {
      await accept(token, { name: name || undefined, password });
    } catch (err) {
      setFailure(applyServerErrors(form, err, ["name", "password"]));
    }
  });

  return (
    <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate>
      <p className="text-[13px] text-fg-muted">Choose a password for your new account.</p>
      <Field
        id="name"
        label="Your name"
        hint="Optional: shown to the other members."
        error={errors.name?.message}
      >
        <Input
          autoComplete="name"
          autoFocus
          {...describedBy("name", errors.name?.message)}
          {...form.register("name")}
        />
      </Field>
      <Field
        id="password"
        label="Password"
        hint={`At least ${PASSWORD_MIN} characters.`}
        error={errors.password?.message}
      >
        <Input
          type="password"
          autoComplete="new-password"
          {...describedBy("password", errors.password?.message)}
          {...form.register("password")}
        />
      </Field>
      <Field id="confirm" label="Confirm password" error={errors.confirm?.message}>
        <Input
          type="password"
          autoComplete="new-password"
          {...describedBy("confirm", errors.confirm?.message)}
          {...form.register("confirm")}
        />
      </Field>
      <FieldError message={failure ?? undefined} />
      <Button type="submit" variant="primary" disabled={form.formState.isSubmitting}>
        <UserPlus size={14} aria-hidden />
        {form.formState.isSubmitting ? "Creating…" : "Create account and join"}
      </Button>
    </form>
  );
}

function ExistingAccount({ token }: { token: string }) {
  const form = useZodForm(existingAccountFormSchema, { defaultValues: { password: "" } });
  const [failure, setFailure] = useState<string | null>(null);
  const error = form.formState.errors.password?.message;

  const onSubmit = form.handleSubmit(async ({ password }) => {
    setFailure(null);
    try {
      await accept(token, { password });
    } catch (err) {
      setFailure(applyServerErrors(form, err, ["password"]));
    }
  });

  return (
    <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate>
      <p className="text-[13px] text-fg-muted">
        You already have an account with this email: confirm it is you with its password.
      </p>
      <Field id="password" label="Password" error={error}>
        <Input
          type="password"
          autoComplete="current-password"
          autoFocus
          {...describedBy("password", error)}
          {...form.register("password")}
        />
      </Field>
      <FieldError message={failure ?? undefined} />
      <Button type="submit" variant="primary" disabled={form.formState.isSubmitting}>
        <LinkIcon size={14} aria-hidden />
        {form.formState.isSubmitting ? "Joining…" : "Join the workspace"}
      </Button>
    </form>
  );
}
