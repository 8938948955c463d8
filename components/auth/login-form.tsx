"use client";

import { KeyRound } from "lucide-react";
import { useState } from "react";

import { Button } from "@/components/ui/button";
import { describedBy, Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { login } from "@/lib/api-client/auth";
import { ApiClientError } from "@/lib/api-client/fetcher";
import { useZodForm } from "@/lib/hooks/use-zod-form";
import { safeNextPath } from "@/lib/safe-next";
import { masterKeyLoginSchema } from "@/lib/schemas/auth";

export function LoginForm({ next }: { next: string }) {
  const form = useZodForm(masterKeyLoginSchema, { defaultValues: { master_key: "" } });
  const [failure, setFailure] = useState<string | null>(null);
  const error = form.formState.errors.master_key?.message ?? failure ?? undefined;

  const onSubmit = form.handleSubmit(async (values) => {
    setFailure(null);
    try {
      await login(values);
      // The key stays in no browser storage: drop it from the form before leaving.
      form.reset({ master_key: "" });
      // A full load, so the server layout sees the new cookie.
      window.location.assign(safeNextPath(next));
    } catch (err) {
      setFailure(err instanceof ApiClientError ? err.message : "Could not reach Hangar");
    }
  });

  return (
    <form
      onSubmit={onSubmit}
      className="flex w-full max-w-sm flex-col gap-4 rounded-lg border border-border bg-bg p-6 shadow-sm"
      noValidate
    >
      <div className="flex items-center gap-2">
        <div
          aria-hidden
          className="grid h-7 w-7 place-items-center rounded-md bg-accent text-xs font-bold text-accent-fg"
        >
          H
        </div>
        <h1 className="text-base font-semibold">Log in to Hangar</h1>
      </div>
      <Field
        id="master_key"
        label="Master key"
        hint="Printed when Hangar first started, and kept in .hangar/master.key. It is exchanged for a session cookie and not stored in this browser."
        error={error}
      >
        <Input
          type="password"
          autoComplete="off"
          autoFocus
          spellCheck={false}
          {...describedBy("master_key", error)}
          {...form.register("master_key")}
        />
      </Field>
      <Button type="submit" variant="primary" disabled={form.formState.isSubmitting}>
        <KeyRound size={14} aria-hidden />
        {form.formState.isSubmitting ? "Checking…" : "Log in"}
      </Button>
    </form>
  );
}
