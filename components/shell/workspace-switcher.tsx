"use client";

import { useQuery } from "@tanstack/react-query";
import { Plus } from "lucide-react";
import { useId, useState } from "react";

import { RoleBadge } from "@/components/teams/role-badge";
import { Button } from "@/components/ui/button";
import { FieldError } from "@/components/ui/field";
import { Select } from "@/components/ui/select";
import { useCaller, useSwitchWorkspace } from "@/lib/api-client/auth";
import { workspaceQueries } from "@/lib/api-client/workspaces";
import type { AuthSession } from "@/lib/schemas/auth";

import { NewWorkspaceDialog } from "./new-workspace-dialog";

/** The current workspace; picking another switches the login to it and reloads the page. */
export function WorkspaceSwitcher() {
  const id = useId();
  const { caller } = useCaller();
  const list = useQuery(workspaceQueries.list());
  const change = useSwitchWorkspace();
  const workspaces = list.data?.data ?? [];
  const current = caller?.workspace;
  // An API key or a single membership has nothing to switch to: the name alone says where one is.
  const switchable = caller?.kind === "browser" && workspaces.length > 1;
  const [creating, setCreating] = useState(false);

  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="px-1 text-[11px] font-medium text-fg-subtle">
        Workspace
      </label>
      <Select
        id={id}
        value={current?.id ?? ""}
        disabled={!switchable || change.isPending}
        title={switchable ? undefined : "You are in one workspace only"}
        onChange={(e) => change.mutate(e.target.value)}
        className="h-7 text-xs"
      >
        {!current && <option value="">Loading…</option>}
        {current && !workspaces.some((w) => w.id === current.id) && (
          <option value={current.id}>{current.name}</option>
        )}
        {workspaces.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
      </Select>
      <FieldError message={change.error?.message} />
      {caller?.kind === "browser" && (
        <Button variant="ghost" size="sm" onClick={() => setCreating(true)} className="justify-start text-xs">
          <Plus size={13} aria-hidden />
          New workspace
        </Button>
      )}
      {creating && <NewWorkspaceDialog onClose={() => setCreating(false)} />}
    </div>
  );
}

function whoLabel(caller: AuthSession): string {
  if (caller.user) return caller.user.email;
  if (caller.key) return `API key ${caller.key.name}`;
  return "Master key";
}

/** Who is signed in here, and with which role in the current workspace. */
export function CallerCard() {
  const { caller } = useCaller();
  if (!caller) return <div aria-hidden className="h-10" />;
  const who = whoLabel(caller);
  return (
    <section aria-label="Signed in" className="flex flex-col gap-1 rounded-md px-2 py-1.5">
      <span className="truncate text-xs font-medium text-fg" title={who}>
        {who}
      </span>
      <span className="flex items-center gap-1.5 text-[11px] text-fg-muted">
        <span className="sr-only">Role:</span>
        <RoleBadge role={caller.role} />
        <span className="truncate" title={caller.workspace.name}>
          in {caller.workspace.name}
        </span>
      </span>
    </section>
  );
}
