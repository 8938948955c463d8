"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { Download, ScrollText } from "lucide-react";
import { useId, useState, type FormEvent } from "react";

import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { auditExportUrl, auditQueries, type AuditFilters } from "@/lib/api-client/audit";
import { cn } from "@/lib/cn";
import type { AuditEntry } from "@/lib/schemas/audit";

import { AuditDetail } from "./audit-detail";
import { CELL, HEAD, ROW } from "./table";

type Draft = { actor: string; action: string; resource: string; since: string; until: string };
const EMPTY: Draft = { actor: "", action: "", resource: "", since: "", until: "" };

/** A datetime-local value (the browser's local time) as the API's ISO instant. */
function instant(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function filtersOf(draft: Draft): AuditFilters {
  return {
    actor: draft.actor.trim() || undefined,
    action: draft.action.trim() || undefined,
    resource: draft.resource.trim() || undefined,
    since: instant(draft.since),
    until: instant(draft.until),
  };
}

/** The workspace's audit log, oldest first as the API pages it; "Load more" reads the next page. */
export function AuditPage() {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [filters, setFilters] = useState<AuditFilters>({});
  const log = useInfiniteQuery(auditQueries.list(filters));
  const entries = log.data?.pages.flatMap((p) => p.data) ?? [];
  const filtered = Object.values(filters).some((v) => v !== undefined);

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change in this workspace, who made it and when. Nothing here is ever edited or deleted."
        actions={
          <a
            href={auditExportUrl(filters)}
            download
            className="inline-flex h-7 items-center gap-1.5 rounded-md border border-border-strong px-2.5 text-xs font-medium hover:bg-bg-muted"
          >
            <Download size={13} aria-hidden />
            Export JSON lines
          </a>
        }
      />
      <AuditFilterForm
        draft={draft}
        onChange={(patch) => setDraft((d) => ({ ...d, ...patch }))}
        onApply={() => setFilters(filtersOf(draft))}
        onClear={() => {
          setDraft(EMPTY);
          setFilters({});
        }}
      />
      {log.error ? (
        <p role="alert" className="px-6 py-4 text-xs text-danger">
          Could not load the audit log: {log.error.message}
        </p>
      ) : log.data && entries.length === 0 ? (
        <EmptyState
          icon={<ScrollText size={24} aria-hidden />}
          title={filtered ? "No entries match these filters" : "No entries yet"}
        />
      ) : (
        <AuditTable entries={entries} loading={!log.data} />
      )}
      <div className="flex h-14 items-center gap-3 px-6 text-xs text-fg-muted">
        <span aria-live="polite">
          {log.data
            ? `${entries.length} ${entries.length === 1 ? "entry" : "entries"} shown, oldest first`
            : ""}
        </span>
        {log.hasNextPage && (
          <Button size="sm" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
            {log.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
        )}
      </div>
    </>
  );
}

function AuditFilterForm({
  draft,
  onChange,
  onApply,
  onClear,
}: {
  draft: Draft;
  onChange: (patch: Partial<Draft>) => void;
  onApply: () => void;
  onClear: () => void;
}) {
  const id = useId();
  const text = (key: keyof Draft, label: string, placeholder: string) => (
    <Field id={`${id}-${key}`} label={label} className="w-44">
      <Input
        id={`${id}-${key}`}
        value={draft[key]}
        placeholder={placeholder}
        spellCheck={false}
        onChange={(e) => onChange({ [key]: e.target.value })}
        type={key === "since" || key === "until" ? "datetime-local" : "text"}
      />
    </Field>
  );
  return (
    <form
      role="search"
      aria-label="Filter the audit log"
      className="flex flex-wrap items-end gap-3 border-b border-border px-6 py-3"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        onApply();
      }}
    >
      {text("actor", "Actor", "user id, key id, master")}
      {text("action", "Action", "agent.update or agent.")}
      {text("resource", "Resource", "a resource id")}
      {text("since", "From", "")}
      {text("until", "To", "")}
      <div className="flex gap-2">
        <Button type="submit" size="md" variant="primary">
          Apply filters
        </Button>
        <Button size="md" variant="ghost" onClick={onClear}>
          Clear
        </Button>
      </div>
    </form>
  );
}

function AuditTable({ entries, loading }: { entries: AuditEntry[]; loading: boolean }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full min-w-[960px] border-collapse text-[13px]" aria-busy={loading}>
        <caption className="sr-only">Audit log entries, oldest first</caption>
        <thead>
          <tr className={HEAD}>
            <th scope="col" className={cn(CELL, "w-44 font-medium")}>
              When
            </th>
            <th scope="col" className={cn(CELL, "w-56 font-medium")}>
              Actor
            </th>
            <th scope="col" className={cn(CELL, "w-44 font-medium")}>
              Action
            </th>
            <th scope="col" className={cn(CELL, "w-56 font-medium")}>
              Resource
            </th>
            <th scope="col" className={cn(CELL, "font-medium")}>
              Detail
            </th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.seq} className={cn(ROW, "h-auto align-top")}>
              <td className={cn(CELL, "py-2 text-xs whitespace-nowrap text-fg-muted")}>
                <time dateTime={entry.at}>{new Date(entry.at).toLocaleString()}</time>
              </td>
              <td className={cn(CELL, "max-w-56 py-2")}>
                <span className="block truncate" title={entry.actor.label}>
                  {entry.actor.kind === "master" ? "Master key" : entry.actor.label}
                </span>
                <span className="block truncate font-mono text-[11px] text-fg-subtle">
                  {entry.actor.kind === "key"
                    ? "API key "
                    : entry.actor.kind === "anonymous"
                      ? "not signed in "
                      : ""}
                  {entry.actor.id ?? ""}
                </span>
              </td>
              <td className={cn(CELL, "py-2 font-mono text-xs whitespace-nowrap")}>{entry.action}</td>
              <td className={cn(CELL, "max-w-56 py-2 text-xs")}>
                {entry.resource.id ? (
                  <>
                    <span className="block text-fg-muted">{entry.resource.type}</span>
                    <span className="block truncate font-mono text-[11px]" title={entry.resource.id}>
                      {entry.resource.id}
                    </span>
                  </>
                ) : (
                  <span className="text-fg-subtle">—</span>
                )}
              </td>
              <td className={cn(CELL, "py-2 text-xs text-fg-muted")}>
                <AuditDetail detail={entry.detail} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
