"use client";

import { useState } from "react";

import { ConfirmDialog } from "@/components/ui/dialog";
import { FieldError } from "@/components/ui/field";
import { ApiClientError } from "@/lib/api-client/fetcher";
import { useDeleteSkill } from "@/lib/api-client/skills";

/** Asks before deleting `skill`; open while `skill` is set. */
export function DeleteSkillDialog({
  skill,
  onClose,
  onDeleted,
}: {
  skill: { id: string; name: string } | null;
  onClose: () => void;
  onDeleted?: (id: string) => void;
}) {
  const remove = useDeleteSkill();
  const [error, setError] = useState<string | null>(null);

  const close = () => {
    setError(null);
    remove.reset();
    onClose();
  };

  return (
    <ConfirmDialog
      open={skill !== null}
      title="Delete skill?"
      confirmLabel="Delete skill"
      pending={remove.isPending}
      onClose={close}
      onConfirm={() => {
        if (!skill) return;
        setError(null);
        remove.mutate(skill.id, {
          onSuccess: () => {
            onDeleted?.(skill.id);
            close();
          },
          onError: (err) =>
            setError(err instanceof ApiClientError ? err.message : "Could not delete the skill."),
        });
      }}
      body={
        <div className="flex flex-col gap-2">
          <p>
            <span className="font-medium text-fg">{skill?.name}</span> and its history will be deleted. Agents
            that attached it keep their copy.
          </p>
          <FieldError message={error ?? undefined} />
        </div>
      }
    />
  );
}
