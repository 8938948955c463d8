"use client";

import { useQuery } from "@tanstack/react-query";
import { RotateCcw, X } from "lucide-react";
import { useState } from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { RelativeTime } from "@/components/ui/time";
import { skillQueries } from "@/lib/api-client/skills";
import { cn } from "@/lib/cn";
import type { SkillVersion } from "@/lib/schemas/skill";

import { SkillDiff } from "./skill-diff";

/**
 * The versions of a skill, newest first. Picking an older one shows what changed since, and can
 * put its content back in the editor (saving stays with the form).
 */
export function SkillHistory({
  skillId,
  onRestore,
}: {
  skillId: string;
  /** Null when the caller may not edit the skill: no restore button. */
  onRestore: ((version: SkillVersion) => void) | null;
}) {
  const versions = useQuery(skillQueries.versions(skillId));
  const [selected, setSelected] = useState<number | null>(null);
  const list = versions.data?.data ?? [];
  const current = list[0];
  const picked = list.find((v) => v.version === selected && v !== current);

  return (
    <section aria-labelledby="skill-history-title" className="flex flex-col gap-3">
      <div className="flex h-7 items-center justify-between">
        <h2 id="skill-history-title" className="text-[13px] font-medium">
          History
        </h2>
        {list.length > 0 && (
          <span className="text-xs text-fg-muted">
            {list.length} {list.length === 1 ? "version" : "versions"}
          </span>
        )}
      </div>

      {/* Data before error: a failed refetch (say, right after a delete) keeps the list it had. */}
      {!versions.data && versions.error ? (
        <p className="text-xs text-danger">
          Could not load the history.{" "}
          <button type="button" className="underline" onClick={() => void versions.refetch()}>
            Retry
          </button>
        </p>
      ) : !versions.data ? (
        <ul aria-busy className="flex flex-col gap-px" aria-label="Loading versions">
          {[0, 1, 2].map((i) => (
            <li key={i} className="flex h-9 items-center px-2">
              <span className="h-3 w-24 animate-pulse rounded bg-bg-muted" />
            </li>
          ))}
        </ul>
      ) : (
        <ul
          aria-label="Versions"
          className="flex max-h-72 flex-col gap-px overflow-y-auto rounded-md border border-border p-1"
        >
          {list.map((v) => {
            const isCurrent = v === current;
            const renamed = current && v.name !== current.name;
            const body = (
              <>
                <span className="w-8 shrink-0 font-medium tabular-nums">v{v.version}</span>
                <span className="min-w-0 flex-1 truncate text-fg-muted">{renamed ? v.name : ""}</span>
                {isCurrent && <Badge tone="accent">current</Badge>}
                <RelativeTime iso={v.created_at} className="shrink-0 text-xs text-fg-subtle" />
              </>
            );
            return (
              <li key={v.version}>
                {isCurrent ? (
                  <div className="flex h-8 items-center gap-2 px-2 text-[13px]">{body}</div>
                ) : (
                  <button
                    type="button"
                    aria-pressed={selected === v.version}
                    onClick={() => setSelected(selected === v.version ? null : v.version)}
                    className={cn(
                      "flex h-8 w-full items-center gap-2 rounded px-2 text-left text-[13px]",
                      selected === v.version ? "bg-accent-subtle" : "hover:bg-bg-muted",
                    )}
                  >
                    <span className="sr-only">Compare </span>
                    {body}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}

      {list.length === 1 && <p className="text-xs text-fg-muted">Each save adds a version here.</p>}
      {list.length > 1 && !picked && (
        <p className="text-xs text-fg-muted">Pick an older version to see what changed since.</p>
      )}

      {picked && current && (
        <div className="flex flex-col gap-2">
          <div className="flex items-center justify-between gap-2">
            <h3 className="text-xs font-medium">
              v{picked.version} → v{current.version}{" "}
              <span className="font-normal text-fg-muted">(current)</span>
            </h3>
            <div className="flex items-center gap-1">
              {onRestore && (
                <Button size="sm" onClick={() => onRestore(picked)}>
                  <RotateCcw size={13} aria-hidden />
                  Restore this version
                </Button>
              )}
              <Button
                size="icon"
                variant="ghost"
                aria-label="Close comparison"
                onClick={() => setSelected(null)}
              >
                <X size={14} aria-hidden />
              </Button>
            </div>
          </div>
          <SkillDiff
            key={picked.version}
            oldText={picked.content}
            newText={current.content}
            label={`Changes from v${picked.version} to v${current.version}`}
          />
        </div>
      )}
    </section>
  );
}
