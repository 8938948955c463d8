"use client";

import { useId, useState } from "react";

import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { FieldError } from "@/components/ui/field";
import { useRestartSession } from "@/lib/api-client/sessions";
import type { Session } from "@/lib/schemas/session";

import { envErrorsOf, SessionEnvField } from "./session-env-field";

/** Mounted only while open, so secrets typed here are gone once it closes. */
export function RestartSessionDialog({
  session,
  onClose,
}: {
  session: Pick<Session, "id" | "title">;
  onClose: () => void;
}) {
  const formId = useId();
  const restart = useRestartSession(session.id);
  const [env, setEnv] = useState<Record<string, string>>({});
  const errors = envErrorsOf(restart.error);

  return (
    <Dialog
      open
      onClose={onClose}
      size="lg"
      title={`Restart ${session.title || "this session"}?`}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form={formId} disabled={restart.isPending}>
            {restart.isPending ? "Restarting…" : "Restart session"}
          </Button>
        </>
      }
    >
      <form
        id={formId}
        noValidate
        className="flex flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          restart.mutate({ env_vars: env }, { onSuccess: onClose });
        }}
      >
        <p>
          A new sandbox boots with the same configuration; whatever runs in the current one is stopped.
          Per-session env vars are not stored, so give them again if this session needs them.
        </p>
        <SessionEnvField value={env} onChange={setEnv} errors={errors.byKey} />
        <FieldError message={errors.other ?? undefined} />
      </form>
    </Dialog>
  );
}
