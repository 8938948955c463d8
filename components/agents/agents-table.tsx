"use client";

import { useQuery } from "@tanstack/react-query";
import { ArrowDown, ArrowUp, Bot, Plus, Trash2 } from "lucide-react";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";

import { Button } from "@/components/ui/button";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Pagination } from "@/components/ui/pagination";
import { SearchInput } from "@/components/ui/search-input";
import { RelativeTime } from "@/components/ui/time";
import { agentQueries } from "@/lib/api-client/agents";
import { useCaller } from "@/lib/api-client/auth";
import { cn } from "@/lib/cn";
import { AGENT_SORT_FIELDS, type Agent, type AgentListItem, type AgentListQuery } from "@/lib/schemas/agent";

import { DeleteAgentDialog } from "./delete-agent-dialog";
import { HarnessBadge } from "./harness-badge";

const PAGE_SIZE = 50;
type Sort = AgentListQuery["sort"];

const COLUMNS: { key: Sort | null; label: string; className?: string }[] = [
  { key: "name", label: "Name" },
  { key: "harness_id", label: "Harness" },
  { key: "model", label: "Model" },
  { key: null, label: "Sessions" },
  { key: null, label: "Setup", className: "hidden lg:table-cell" },
  { key: "created_at", label: "Created" },
];

type ListParams = { search: string; sort: Sort; order: "asc" | "desc"; page: number };

function parseParams(params: URLSearchParams): ListParams {
  const sortParam = params.get("sort") as Sort | null;
  return {
    search: params.get("q") ?? "",
    sort: sortParam && AGENT_SORT_FIELDS.includes(sortParam) ? sortParam : "created_at",
    order: params.get("order") === "asc" ? "asc" : "desc",
    page: Math.max(0, Number(params.get("page") ?? "0") || 0),
  };
}

export function AgentsTable() {
  const router = useRouter();
  const pathname = usePathname();
  const initial = useSearchParams();
  // The list state lives here and is mirrored into the URL (for reload and sharing); reading it back
  // from the router would lag a click behind while Next commits the navigation.
  const [params, setListParams] = useState(() => parseParams(initial));
  const { search, sort, order, page } = params;
  const [text, setText] = useState(search);
  const [deleting, setDeleting] = useState<Agent | null>(null);
  // Creating and deleting agents is for admins; the others see the list only.
  const admin = useCaller().can("admin");

  const setParams = (next: Partial<ListParams>) => setListParams((current) => ({ ...current, ...next }));

  useEffect(() => {
    const qs = new URLSearchParams();
    if (search) qs.set("q", search);
    if (sort !== "created_at") qs.set("sort", sort);
    if (order !== "desc") qs.set("order", order);
    if (page) qs.set("page", String(page));
    window.history.replaceState(null, "", qs.size ? `${pathname}?${qs}` : pathname);
  }, [pathname, search, sort, order, page]);

  useEffect(() => {
    if (text === search) return;
    const timer = setTimeout(() => setParams({ search: text, page: 0 }), 200);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- setParams is rebuilt every render
  }, [text]);

  const query = useQuery(
    agentQueries.list({
      search: search || undefined,
      sort,
      order,
      limit: PAGE_SIZE,
      offset: page * PAGE_SIZE,
    }),
  );
  const data = query.data;
  const total = data?.total ?? 0;

  const toggleSort = (key: Sort) =>
    setParams(
      key === sort
        ? { order: order === "asc" ? "desc" : "asc", page: 0 }
        : { sort: key, order: key === "name" ? "asc" : "desc", page: 0 },
    );

  const isEmptyLibrary = data && total === 0 && !search;

  return (
    <>
      <PageHeader
        title="Agents"
        description="Configurations that sessions run in a sandbox."
        actions={
          admin && (
            <Button variant="primary" size="sm" onClick={() => router.push("/agents/new")}>
              <Plus size={14} aria-hidden />
              New agent
            </Button>
          )
        }
      />
      {isEmptyLibrary ? (
        <EmptyState
          icon={<Bot size={28} aria-hidden />}
          title="No agents yet"
          body="An agent is a model, a prompt and a harness, with the skills, secrets, files and network rules its sessions get."
          action={admin && <NewAgentLink />}
        />
      ) : (
        <div className="px-6 py-4">
          <div className="mb-3 flex items-center gap-3">
            <SearchInput
              wrapperClassName="w-72"
              aria-label="Search agents"
              placeholder="Search name, id, model, harness"
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
            <span className="text-xs text-fg-muted" aria-live="polite">
              {data ? `${total} agent${total === 1 ? "" : "s"}` : ""}
            </span>
          </div>
          <div className="overflow-x-auto rounded-lg border border-border">
            <table className="w-full text-left text-[13px]">
              <thead className="bg-bg-subtle text-xs text-fg-muted">
                <tr>
                  {COLUMNS.map((col) => (
                    <ColumnHeader
                      key={col.label}
                      column={col}
                      sort={sort}
                      order={order}
                      onSort={toggleSort}
                    />
                  ))}
                  <th scope="col" className="w-10">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {!data &&
                  Array.from({ length: 6 }, (_, i) => (
                    <tr key={i} className="h-11 border-t border-border" aria-hidden>
                      <td colSpan={7} className="px-3">
                        <div className="h-3 w-1/3 animate-pulse rounded bg-bg-muted" />
                      </td>
                    </tr>
                  ))}
                {data?.data.map((agent) => (
                  <AgentRow key={agent.id} agent={agent} onDelete={admin ? setDeleting : null} />
                ))}
                {data && data.data.length === 0 && (
                  <tr className="border-t border-border">
                    <td colSpan={7} className="px-3 py-10 text-center text-xs text-fg-muted">
                      No agents match “{search}”.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          {total > PAGE_SIZE && (
            <Pagination
              className="mt-3"
              offset={page * PAGE_SIZE}
              shown={data?.data.length ?? 0}
              total={total}
              onPrevious={() => setParams({ page: page - 1 })}
              onNext={() => setParams({ page: page + 1 })}
            />
          )}
        </div>
      )}
      <DeleteAgentDialog agent={deleting} onClose={() => setDeleting(null)} />
    </>
  );
}

function setupSummary(agent: Agent): string {
  const parts = [
    agent.attached_skill_ids.length &&
      `${agent.attached_skill_ids.length} skill${agent.attached_skill_ids.length === 1 ? "" : "s"}`,
    Object.keys(agent.env_vars).length &&
      `${Object.keys(agent.env_vars).length} secret${Object.keys(agent.env_vars).length === 1 ? "" : "s"}`,
    agent.sandbox_files.length &&
      `${agent.sandbox_files.length} file${agent.sandbox_files.length === 1 ? "" : "s"}`,
    agent.repo_url && "repo",
  ].filter(Boolean);
  return parts.length ? parts.join(" · ") : "—";
}

type Column = (typeof COLUMNS)[number];

/** A column's heading; a sortable column is a button that sorts by it, or flips the order. */
function ColumnHeader({
  column,
  sort,
  order,
  onSort,
}: {
  column: Column;
  sort: Sort;
  order: "asc" | "desc";
  onSort: (key: Sort) => void;
}) {
  return (
    <th
      scope="col"
      className={cn("h-8 px-3 font-medium", column.className)}
      aria-sort={column.key === sort ? (order === "asc" ? "ascending" : "descending") : undefined}
    >
      {column.key ? (
        <button
          type="button"
          onClick={() => onSort(column.key as Sort)}
          className="inline-flex items-center gap-1 hover:text-fg"
        >
          {column.label}
          {column.key === sort &&
            (order === "asc" ? <ArrowUp size={12} aria-hidden /> : <ArrowDown size={12} aria-hidden />)}
        </button>
      ) : (
        column.label
      )}
    </th>
  );
}

function NewAgentLink() {
  return (
    <Link
      href="/agents/new"
      className="inline-flex h-8 items-center gap-2 rounded-md bg-accent px-3 text-[13px] font-medium text-accent-fg"
    >
      <Plus size={14} aria-hidden />
      New agent
    </Link>
  );
}

function AgentRow({ agent, onDelete }: { agent: AgentListItem; onDelete: ((agent: Agent) => void) | null }) {
  return (
    <tr className="h-11 border-t border-border hover:bg-bg-subtle">
      <td className="max-w-64 px-3">
        <Link href={`/agents/${agent.id}`} className="block truncate font-medium hover:underline">
          {agent.name || <span className="text-fg-muted">Untitled</span>}
        </Link>
        <span className="block truncate font-mono text-[11px] text-fg-subtle">{agent.id}</span>
      </td>
      <td className="px-3 whitespace-nowrap">
        <HarnessBadge harness={agent.harness_id} />
      </td>
      <td className="max-w-56 truncate px-3 font-mono text-xs">{agent.model}</td>
      <td className="px-3 text-xs whitespace-nowrap text-fg-muted">
        <span className="inline-flex items-center gap-1.5">
          {agent.has_active_session && (
            <span aria-label="a session is live" className="h-1.5 w-1.5 rounded-full bg-success" />
          )}
          {agent.session_count}
        </span>
      </td>
      <td className="hidden px-3 text-xs text-fg-muted lg:table-cell">{setupSummary(agent)}</td>
      <td className="px-3 text-xs whitespace-nowrap text-fg-muted">
        <RelativeTime iso={agent.created_at} />
      </td>
      <td className="px-2">
        {onDelete && (
          <Button
            variant="ghost"
            size="icon"
            aria-label={`Delete ${agent.name ?? agent.id}`}
            onClick={() => onDelete(agent)}
          >
            <Trash2 size={14} aria-hidden />
          </Button>
        )}
      </td>
    </tr>
  );
}
