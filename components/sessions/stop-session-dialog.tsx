"use client";

import { ConfirmDialog } from "@/components/ui/dialog";
import { useStopSession } from "@/lib/api-client/sessions";
import type { Session } from "@/lib/schemas/session";

export function StopSessionDialog({
  session,
  open,
  onClose,
}: {
  session: Pick<Session, "id" | "title">;
  open: boolean;
  onClose: () => void;
}) {
  const stop = useStopSession();
  return (
    <ConfirmDialog
      open={open}
      title={`Stop ${session.title || "this session"}?`}
      body={
        <>
          The sandbox and everything running in it stop. The session&apos;s record and timeline stay, and
          Restart boots a new sandbox with the same configuration.
          {stop.error && (
            <span role="alert" className="mt-2 block text-danger">
              {stop.error.message}
            </span>
          )}
        </>
      }
      confirmLabel="Stop session"
      pending={stop.isPending}
      onClose={() => {
        stop.reset();
        onClose();
      }}
      onConfirm={async () => {
        try {
          await stop.mutateAsync(session.id);
          onClose();
        } catch {
          // shown in the dialog
        }
      }}
    />
  );
}
