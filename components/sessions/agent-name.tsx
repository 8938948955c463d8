"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";

import { agentQueries } from "@/lib/api-client/agents";
import { cn } from "@/lib/cn";

/**
 * A link to a session's agent by name. The session wire object carries only `agent_id`: the name comes
 * from `known` (a list the page already holds) or, failing that, from the agent itself.
 */
export function AgentLink({
  agentId,
  known,
  className,
}: {
  agentId: string;
  known?: Map<string, string | null>;
  className?: string;
}) {
  const fromList = known?.has(agentId);
  const agent = useQuery({ ...agentQueries.detail(agentId), enabled: !fromList });
  const name = fromList ? known?.get(agentId) : agent.data?.name;
  return (
    <Link href={`/agents/${agentId}`} className={cn("truncate hover:underline", className)}>
      {name ? (
        name
      ) : name === null ? (
        <span className="text-fg-muted">Untitled agent</span>
      ) : (
        <span className="font-mono text-xs text-fg-muted">{agentId}</span>
      )}
    </Link>
  );
}
