"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { FieldError } from "@/components/ui/field";
import { RelativeTime } from "@/components/ui/time";
import { memberQueries, useRevokeInvite } from "@/lib/api-client/members";
import { cn } from "@/lib/cn";
import type { Invite } from "@/lib/schemas/member";

import { RoleBadge } from "./role-badge";
import { CELL, HEAD, ROW } from "./table";

/** The invites not yet used, each revocable (its link stops working). */
export function InvitesList() {
  const invites = useQuery(memberQueries.invites());
  const [revoking, setRevoking] = useState<Invite | null>(null);
  const revoke = useRevokeInvite();
  const open = invites.data?.data ?? [];
  const close = () => {
    revoke.reset();
    setRevoking(null);
  };

  return (
    <section aria-labelledby="open-invites" className="pt-8">
      <h2 id="open-invites" className="px-6 pb-2 text-[13px] font-medium">
        Open invites
      </h2>
      {invites.error ? (
        <p role="alert" className="px-6 text-xs text-danger">
          Could not load the invites: {invites.error.message}
        </p>
      ) : invites.data && open.length === 0 ? (
        <p className="px-6 text-xs text-fg-muted">
          No open invites. Links that were used or expired are not listed.
        </p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full min-w-[640px] border-collapse text-[13px]" aria-busy={!invites.data}>
            <caption className="sr-only">Open invites</caption>
            <thead>
              <tr className={HEAD}>
                <th scope="col" className={cn(CELL, "font-medium")}>
                  Email
                </th>
                <th scope="col" className={cn(CELL, "w-40 font-medium")}>
                  Role
                </th>
                <th scope="col" className={cn(CELL, "w-32 font-medium")}>
                  Sent
                </th>
                <th scope="col" className={cn(CELL, "w-44 font-medium")}>
                  Expires
                </th>
                <th scope="col" className={cn(CELL, "w-24")}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {open.map((invite) => (
                <tr key={invite.id} className={ROW}>
                  <td className={cn(CELL, "max-w-72 truncate")}>{invite.email}</td>
                  <td className={CELL}>
                    <RoleBadge role={invite.role} />
                  </td>
                  <td className={cn(CELL, "text-xs text-fg-muted")}>
                    <RelativeTime iso={invite.created_at} />
                  </td>
                  <td className={cn(CELL, "text-xs text-fg-muted")}>
                    <time dateTime={invite.expires_at}>{new Date(invite.expires_at).toLocaleString()}</time>
                  </td>
                  <td className={cn(CELL, "text-right")}>
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Revoke the invite for ${invite.email}`}
                      onClick={() => setRevoking(invite)}
                    >
                      Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke invite?"
        confirmLabel="Revoke invite"
        pending={revoke.isPending}
        onClose={close}
        onConfirm={() => revoking && revoke.mutate(revoking.id, { onSuccess: close })}
        body={
          <div className="flex flex-col gap-2">
            <p>
              The link sent to <span className="font-medium text-fg">{revoking?.email}</span> stops working.
            </p>
            <FieldError message={revoke.error?.message} />
          </div>
        }
      />
    </section>
  );
}
