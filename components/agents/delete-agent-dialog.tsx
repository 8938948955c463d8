"use client";

import { ConfirmDialog } from "@/components/ui/dialog";
import { useDeleteAgent } from "@/lib/api-client/agents";
import type { Agent } from "@/lib/schemas/agent";

export function DeleteAgentDialog({
  agent,
  onClose,
  onDeleted,
}: {
  agent: Agent | null;
  onClose: () => void;
  onDeleted?: () => void;
}) {
  const remove = useDeleteAgent();
  return (
    <ConfirmDialog
      open={agent !== null}
      title={`Delete ${agent?.name ?? agent?.id ?? "agent"}?`}
      body={
        <>
          The agent, its files and its stored secrets are deleted for good. Its running sessions are stopped.
          {remove.error && <span className="mt-2 block text-danger">{remove.error.message}</span>}
        </>
      }
      confirmLabel="Delete agent"
      pending={remove.isPending}
      onClose={onClose}
      onConfirm={async () => {
        if (!agent) return;
        await remove.mutateAsync(agent.id);
        onClose();
        onDeleted?.();
      }}
    />
  );
}
