"use client";

import { KeyRound, LogIn } from "lucide-react";
import { useId, useRef, useState, type KeyboardEvent } from "react";

import { Button } from "@/components/ui/button";
import { describedBy, Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { login } from "@/lib/api-client/auth";
import { ApiClientError } from "@/lib/api-client/fetcher";
import { cn } from "@/lib/cn";
import { useZodForm } from "@/lib/hooks/use-zod-form";
import { safeNextPath } from "@/lib/safe-next";
import { masterKeyLoginSchema, passwordLoginSchema } from "@/lib/schemas/auth";

import { OidcButton } from "./oidc-button";

type Way = "password" | "master";

const WAYS: { key: Way; label: string }[] = [
  { key: "password", label: "Email and password" },
  { key: "master", label: "Master key" },
];

/** The server's words for a refusal (wrong credentials, too many attempts), or a network failure. */
function failureOf(err: unknown): string {
  return err instanceof ApiClientError ? err.message : "Could not reach Hangar";
}

/** A full load after login, so the server layout sees the new cookie. */
function leave(next: string) {
  window.location.assign(safeNextPath(next));
}

export function LoginForm({ next }: { next: string }) {
  const [way, setWayState] = useState<Way>("password");
  // The first field has the focus on arrival; after a switch it stays on the tabs (arrow keys).
  const [switched, setSwitched] = useState(false);
  const setWay = (next: Way) => {
    setWayState(next);
    setSwitched(true);
  };
  const id = useId();
  const tabRefs = useRef(new Map<Way, HTMLButtonElement>());

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const index = WAYS.findIndex((w) => w.key === way);
    const target =
      e.key === "ArrowRight" || e.key === "End"
        ? WAYS[Math.min(index + 1, WAYS.length - 1)]
        : e.key === "ArrowLeft" || e.key === "Home"
          ? WAYS[Math.max(index - 1, 0)]
          : undefined;
    if (!target) return;
    e.preventDefault();
    setWay(target.key);
    tabRefs.current.get(target.key)?.focus();
  }

  return (
    <div className="flex w-full max-w-sm flex-col gap-4 rounded-lg border border-border bg-bg p-6 shadow-sm">
      <div className="flex items-center gap-2">
        <div
          aria-hidden
          className="grid h-7 w-7 place-items-center rounded-md bg-accent text-xs font-bold text-accent-fg"
        >
          H
        </div>
        <h1 className="text-base font-semibold">Log in to Hangar</h1>
      </div>
      <div
        role="tablist"
        aria-label="How to log in"
        onKeyDown={onKeyDown}
        className="grid grid-cols-2 gap-1 rounded-md bg-bg-muted p-0.5"
      >
        {WAYS.map((w) => {
          const selected = w.key === way;
          return (
            <button
              key={w.key}
              ref={(el) => {
                if (el) tabRefs.current.set(w.key, el);
                else tabRefs.current.delete(w.key);
              }}
              type="button"
              role="tab"
              id={`${id}-tab-${w.key}`}
              aria-selected={selected}
              aria-controls={selected ? `${id}-panel` : undefined}
              tabIndex={selected ? 0 : -1}
              onClick={() => setWay(w.key)}
              className={cn(
                "h-7 rounded text-xs font-medium",
                selected ? "bg-bg text-fg shadow-sm" : "text-fg-muted hover:text-fg",
              )}
            >
              {w.label}
            </button>
          );
        })}
      </div>
      <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-tab-${way}`}>
        {way === "password" ? (
          <PasswordLogin next={next} autoFocus={!switched} />
        ) : (
          <MasterKeyLogin next={next} autoFocus={!switched} />
        )}
      </div>
      <OidcButton next={next} />
    </div>
  );
}

function PasswordLogin({ next, autoFocus }: { next: string; autoFocus: boolean }) {
  const form = useZodForm(passwordLoginSchema, { defaultValues: { email: "", password: "" } });
  const [failure, setFailure] = useState<string | null>(null);
  const emailError = form.formState.errors.email?.message;
  const passwordError = form.formState.errors.password?.message ?? failure ?? undefined;

  const onSubmit = form.handleSubmit(async (values) => {
    setFailure(null);
    try {
      await login(values);
      form.reset({ email: values.email, password: "" });
      leave(next);
    } catch (err) {
      setFailure(failureOf(err));
    }
  });

  return (
    <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate>
      <Field id="email" label="Email" error={emailError}>
        <Input
          type="email"
          autoComplete="username"
          autoFocus={autoFocus}
          spellCheck={false}
          {...describedBy("email", emailError)}
          {...form.register("email")}
        />
      </Field>
      <Field id="password" label="Password" error={passwordError}>
        <Input
          type="password"
          autoComplete="current-password"
          {...describedBy("password", passwordError)}
          {...form.register("password")}
        />
      </Field>
      <Button type="submit" variant="primary" disabled={form.formState.isSubmitting}>
        <LogIn size={14} aria-hidden />
        {form.formState.isSubmitting ? "Checking…" : "Log in"}
      </Button>
      <p className="text-xs text-fg-muted">
        No account? Ask an admin of your workspace for an invite link. Setting Hangar up? Log in with the
        master key it printed at its first start.
      </p>
    </form>
  );
}

function MasterKeyLogin({ next, autoFocus }: { next: string; autoFocus: boolean }) {
  const form = useZodForm(masterKeyLoginSchema, { defaultValues: { master_key: "" } });
  const [failure, setFailure] = useState<string | null>(null);
  const error = form.formState.errors.master_key?.message ?? failure ?? undefined;

  const onSubmit = form.handleSubmit(async (values) => {
    setFailure(null);
    try {
      await login(values);
      // The key stays in no browser storage: drop it from the form before leaving.
      form.reset({ master_key: "" });
      leave(next);
    } catch (err) {
      setFailure(failureOf(err));
    }
  });

  return (
    <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate>
      <Field
        id="master_key"
        label="Master key"
        hint="Printed when Hangar first started, and kept in .hangar/master.key. It is exchanged for a session cookie and not stored in this browser."
        error={error}
      >
        <Input
          type="password"
          autoComplete="off"
          autoFocus={autoFocus}
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
