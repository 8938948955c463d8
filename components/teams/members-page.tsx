"use client";

import { useQuery } from "@tanstack/react-query";
import { Trash2, UserPlus } from "lucide-react";
import { useState } from "react";

import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { FieldError } from "@/components/ui/field";
import { PageHeader } from "@/components/ui/page-header";
import { RelativeTime } from "@/components/ui/time";
import { useCaller } from "@/lib/api-client/auth";
import { memberQueries, useRemoveMember, useUpdateMember } from "@/lib/api-client/members";
import { cn } from "@/lib/cn";
import type { Member } from "@/lib/schemas/member";
import type { WorkspaceRole } from "@/lib/schemas/roles";

import { InviteDialog } from "./invite-dialog";
import { InvitesList } from "./invites-list";
import { RoleBadge } from "./role-badge";
import { RoleSelect } from "./role-select";
import { CELL, HEAD, ROW } from "./table";

export function MembersPage() {
  const { can, caller } = useCaller();
  const admin = can("admin");
  const members = useQuery(memberQueries.list());
  const [inviting, setInviting] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);

  return (
    <>
      <PageHeader
        title="Members"
        description={caller ? `Who works in ${caller.workspace.name}, and with which role.` : undefined}
        actions={
          admin && (
            <Button size="sm" variant="primary" onClick={() => setInviting(true)}>
              <UserPlus size={14} aria-hidden />
              Invite member
            </Button>
          )
        }
      />
      {members.error ? (
        <p role="alert" className="px-6 py-4 text-xs text-danger">
          Could not load the members: {members.error.message}
        </p>
      ) : (
        <MembersTable
          members={members.data?.data}
          admin={admin}
          selfId={caller?.user?.id ?? null}
          onRemove={setRemoving}
        />
      )}
      {admin && <InvitesList />}
      {inviting && <InviteDialog onClose={() => setInviting(false)} />}
      <RemoveMemberDialog member={removing} onClose={() => setRemoving(null)} />
    </>
  );
}

function MembersTable({
  members,
  admin,
  selfId,
  onRemove,
}: {
  members: Member[] | undefined;
  admin: boolean;
  selfId: string | null;
  onRemove: (member: Member) => void;
}) {
  const update = useUpdateMember();
  return (
    <div className="overflow-x-auto">
      <table className="w-full min-w-[640px] border-collapse text-[13px]" aria-busy={!members}>
        <caption className="sr-only">Members</caption>
        <thead>
          <tr className={HEAD}>
            <th scope="col" className={cn(CELL, "font-medium")}>
              Email
            </th>
            <th scope="col" className={cn(CELL, "font-medium")}>
              Name
            </th>
            <th scope="col" className={cn(CELL, "w-40 font-medium")}>
              Role
            </th>
            <th scope="col" className={cn(CELL, "w-32 font-medium")}>
              Joined
            </th>
            {admin && (
              <th scope="col" className={cn(CELL, "w-16")}>
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {members && members.length === 0 && (
            <tr className="border-b border-border">
              <td colSpan={admin ? 5 : 4} className={cn(CELL, "py-6 text-center text-xs text-fg-muted")}>
                No members yet. Invite someone: they are listed here once they accept.
              </td>
            </tr>
          )}
          {(members ?? []).map((member) => (
            <tr key={member.user_id} className={ROW}>
              <td className={cn(CELL, "max-w-72 truncate font-medium")}>
                {member.email}
                {member.user_id === selfId && <span className="ml-1.5 text-xs text-fg-subtle">(you)</span>}
              </td>
              <td className={cn(CELL, "max-w-56 truncate text-fg-muted")}>
                {member.name ?? <span className="text-fg-subtle">—</span>}
              </td>
              <td className={CELL}>
                {admin ? (
                  <RoleSelect
                    aria-label={`Role of ${member.email}`}
                    value={member.role}
                    disabled={update.isPending && update.variables?.userId === member.user_id}
                    onChange={(e) =>
                      update.mutate({ userId: member.user_id, role: e.target.value as WorkspaceRole })
                    }
                    wrapperClassName="w-32"
                    className="h-7 text-xs"
                  />
                ) : (
                  <RoleBadge role={member.role} />
                )}
              </td>
              <td className={cn(CELL, "text-xs text-fg-muted")}>
                <RelativeTime iso={member.joined_at} />
              </td>
              {admin && (
                <td className={cn(CELL, "text-right")}>
                  <Button
                    size="icon"
                    variant="ghost"
                    aria-label={`Remove ${member.email}`}
                    title="Remove from the workspace"
                    onClick={() => onRemove(member)}
                    className="text-fg-subtle hover:text-danger"
                  >
                    <Trash2 size={14} aria-hidden />
                  </Button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {update.error && (
        <div className="px-6 py-2">
          <FieldError message={`Could not change the role: ${update.error.message}`} />
        </div>
      )}
    </div>
  );
}

function RemoveMemberDialog({ member, onClose }: { member: Member | null; onClose: () => void }) {
  const remove = useRemoveMember();
  const close = () => {
    remove.reset();
    onClose();
  };
  return (
    <ConfirmDialog
      open={member !== null}
      title="Remove member?"
      confirmLabel="Remove member"
      pending={remove.isPending}
      onClose={close}
      onConfirm={() => member && remove.mutate(member.user_id, { onSuccess: close })}
      body={
        <div className="flex flex-col gap-2">
          <p>
            <span className="font-medium text-fg">{member?.email}</span> loses access to this workspace at
            once: their open streams and terminals here close. Their account stays, for other workspaces and a
            later invite.
          </p>
          <FieldError message={remove.error?.message} />
        </div>
      }
    />
  );
}
