"use client";

import { useQuery } from "@tanstack/react-query";
import { KeyRound, Plus } from "lucide-react";
import { useState } from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { FieldError } from "@/components/ui/field";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { RelativeTime } from "@/components/ui/time";
import { agentQueries } from "@/lib/api-client/agents";
import { apiKeyQueries, useRevokeApiKey } from "@/lib/api-client/api-keys";
import { cn } from "@/lib/cn";
import type { ApiKey } from "@/lib/schemas/api-key";

import { CreateApiKeyDialog } from "./create-api-key-dialog";
import { RoleBadge } from "./role-badge";
import { CELL, HEAD, ROW } from "./table";

const Dash = () => <span className="text-fg-subtle">—</span>;

export function ApiKeysPage() {
  const keys = useQuery(apiKeyQueries.list());
  const agents = useQuery(agentQueries.list({ limit: 200 }));
  const [creating, setCreating] = useState(false);
  // When the page opened: enough to mark keys past their expiry.
  const [now] = useState(() => Date.now());
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const names = new Map((agents.data?.data ?? []).map((a) => [a.id, a.name ?? a.id]));
  const list = keys.data?.data ?? [];

  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys for scripts and CI, each with a role and, if you like, a few agents it may reach."
        actions={
          <Button size="sm" variant="primary" onClick={() => setCreating(true)}>
            <Plus size={14} aria-hidden />
            New API key
          </Button>
        }
      />
      {keys.error ? (
        <p role="alert" className="px-6 py-4 text-xs text-danger">
          Could not load the API keys: {keys.error.message}
        </p>
      ) : keys.data && list.length === 0 ? (
        <EmptyState
          icon={<KeyRound size={24} aria-hidden />}
          title="No API keys yet"
          body="A key acts in this workspace with the role you give it. It is shown once, when you create it."
        />
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full min-w-[960px] border-collapse text-[13px]" aria-busy={!keys.data}>
            <caption className="sr-only">API keys</caption>
            <thead>
              <tr className={HEAD}>
                {["Name", "Role", "Agents", "Key", "Created by", "Last used", "Expires", "Revoked"].map(
                  (h) => (
                    <th key={h} scope="col" className={cn(CELL, "font-medium whitespace-nowrap")}>
                      {h}
                    </th>
                  ),
                )}
                <th scope="col" className={CELL}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((key) => (
                <KeyRow key={key.id} apiKey={key} names={names} now={now} onRevoke={setRevoking} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating && <CreateApiKeyDialog onClose={() => setCreating(false)} />}
      <RevokeKeyDialog apiKey={revoking} onClose={() => setRevoking(null)} />
    </>
  );
}

function KeyRow({
  apiKey: key,
  names,
  now,
  onRevoke,
}: {
  apiKey: ApiKey;
  names: Map<string, string>;
  now: number;
  onRevoke: (key: ApiKey) => void;
}) {
  const expired = key.expires_at !== null && new Date(key.expires_at).getTime() <= now;
  return (
    <tr className={cn(ROW, key.revoked_at && "text-fg-muted")}>
      <td className={cn(CELL, "max-w-56 truncate font-medium")}>{key.name}</td>
      <td className={CELL}>
        <RoleBadge role={key.role} />
      </td>
      <td className={cn(CELL, "max-w-56 truncate text-xs")}>
        {key.agent_ids === null ? (
          <span className="text-fg-muted">All agents</span>
        ) : (
          <span title={key.agent_ids.join(", ")}>
            {key.agent_ids.map((id) => names.get(id) ?? id).join(", ")}
          </span>
        )}
      </td>
      <td className={cn(CELL, "font-mono text-xs whitespace-nowrap")}>{key.hint}</td>
      <td className={cn(CELL, "max-w-44 truncate text-xs text-fg-muted")}>{key.created_by}</td>
      <td className={cn(CELL, "text-xs whitespace-nowrap text-fg-muted")}>
        {key.last_used_at ? <RelativeTime iso={key.last_used_at} /> : "Never"}
      </td>
      <td className={cn(CELL, "text-xs whitespace-nowrap text-fg-muted")}>
        {key.expires_at ? (
          <time dateTime={key.expires_at} title={new Date(key.expires_at).toLocaleString()}>
            {expired ? "Expired " : ""}
            {new Date(key.expires_at).toLocaleDateString()}
          </time>
        ) : (
          "Never"
        )}
      </td>
      <td className={cn(CELL, "text-xs whitespace-nowrap")}>
        {key.revoked_at ? (
          <Badge tone="danger">
            Revoked <RelativeTime iso={key.revoked_at} className="ml-1" />
          </Badge>
        ) : (
          <Dash />
        )}
      </td>
      <td className={cn(CELL, "text-right")}>
        {!key.revoked_at && (
          <Button
            size="sm"
            variant="ghost"
            aria-label={`Revoke ${key.name}`}
            onClick={() => onRevoke(key)}
            className="hover:text-danger"
          >
            Revoke
          </Button>
        )}
      </td>
    </tr>
  );
}

function RevokeKeyDialog({ apiKey, onClose }: { apiKey: ApiKey | null; onClose: () => void }) {
  const revoke = useRevokeApiKey();
  const close = () => {
    revoke.reset();
    onClose();
  };
  return (
    <ConfirmDialog
      open={apiKey !== null}
      title="Revoke API key?"
      confirmLabel="Revoke key"
      pending={revoke.isPending}
      onClose={close}
      onConfirm={() => apiKey && revoke.mutate(apiKey.id, { onSuccess: close })}
      body={
        <div className="flex flex-col gap-2">
          <p>
            <span className="font-medium text-fg">{apiKey?.name}</span> ({apiKey?.hint}) stops working at
            once: requests with it are refused and its open streams and terminals close. This cannot be
            undone.
          </p>
          <FieldError message={revoke.error?.message} />
        </div>
      }
    />
  );
}
