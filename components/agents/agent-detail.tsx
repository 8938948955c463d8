"use client";

import { useQuery } from "@tanstack/react-query";
import { Pencil, Play, Trash2 } from "lucide-react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, useSyncExternalStore } from "react";

import { NewSessionDialog } from "@/components/sessions/new-session-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { PageHeader } from "@/components/ui/page-header";
import { agentQueries } from "@/lib/api-client/agents";
import { useCaller } from "@/lib/api-client/auth";
import { skillQueries } from "@/lib/api-client/skills";
import type { Agent } from "@/lib/schemas/agent";

import { AgentMainColumn, AgentSideColumn } from "./agent-detail-panels";
import { DeleteAgentDialog } from "./delete-agent-dialog";

export function AgentDetail({ id }: { id: string }) {
  const router = useRouter();
  const query = useQuery(agentQueries.detail(id));
  const skills = useQuery(skillQueries.list({ limit: 200 }));
  const [deleting, setDeleting] = useState<Agent | null>(null);
  const [starting, setStarting] = useState(false);
  const origin = useSyncExternalStore(
    () => () => {},
    () => window.location.origin,
    () => "http://127.0.0.1:3000",
  );
  const agent = query.data;
  const { can } = useCaller();

  if (query.error) return <p className="px-6 py-4 text-danger">{query.error.message}</p>;
  if (!agent) return <div className="h-14 border-b border-border" aria-busy="true" />;

  const names = new Map((skills.data?.data ?? []).map((s) => [s.id, s.name]));

  return (
    <>
      <PageHeader
        title={
          <span className="flex items-center gap-2">
            {agent.name ?? "Untitled agent"}
            <Badge>v{agent.version}</Badge>
          </span>
        }
        description={<span className="font-mono">{agent.id}</span>}
        actions={
          <>
            {can("admin") && (
              <>
                <Button size="sm" variant="ghost" onClick={() => setDeleting(agent)}>
                  <Trash2 size={14} aria-hidden />
                  Delete
                </Button>
                <Link
                  href={`/agents/${agent.id}/edit`}
                  className="inline-flex h-7 items-center gap-1.5 rounded-md border border-border-strong px-2.5 text-xs font-medium hover:bg-bg-muted"
                >
                  <Pencil size={13} aria-hidden />
                  Edit
                </Link>
              </>
            )}
            {can("operator") && (
              <Button size="sm" variant="primary" onClick={() => setStarting(true)}>
                <Play size={13} aria-hidden />
                New session
              </Button>
            )}
          </>
        }
      />
      <div className="grid gap-4 px-6 py-5 xl:grid-cols-[1fr_380px]">
        <AgentMainColumn agent={agent} names={names} />
        <AgentSideColumn agent={agent} origin={origin} />
      </div>
      {starting && (
        <NewSessionDialog
          agentId={agent.id}
          agentName={agent.name ?? "Untitled agent"}
          onClose={() => setStarting(false)}
        />
      )}
      <DeleteAgentDialog
        agent={deleting}
        onClose={() => setDeleting(null)}
        onDeleted={() => router.push("/agents")}
      />
    </>
  );
}
