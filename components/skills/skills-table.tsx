"use client";

import { Trash2 } from "lucide-react";
import Link from "next/link";

import { Button } from "@/components/ui/button";
import { RelativeTime } from "@/components/ui/time";
import { cn } from "@/lib/cn";
import type { Skill } from "@/lib/schemas/skill";

const SKELETON_ROWS = 8;
const CELL = "px-3 first:pl-6 last:pr-6";

export function SkillsTable({
  skills,
  loading,
  stale,
  onDelete,
}: {
  skills: Skill[];
  /** First load: fixed-height placeholder rows, so the page does not jump when data lands. */
  loading?: boolean;
  /** Showing the previous page or search while the next one loads. */
  stale?: boolean;
  /** Null when the caller may not delete skills: no delete buttons. */
  onDelete: ((skill: Skill) => void) | null;
}) {
  return (
    <div className="overflow-x-auto">
      <table
        className="w-full min-w-[640px] table-fixed border-collapse text-[13px]"
        aria-busy={loading || stale}
      >
        <caption className="sr-only">Skills</caption>
        <colgroup>
          <col className="w-[30%]" />
          <col />
          <col className="w-20" />
          <col className="w-32" />
          <col className="w-16" />
        </colgroup>
        <thead>
          <tr className="h-8 border-b border-border text-left text-xs text-fg-muted">
            <th scope="col" className={cn(CELL, "font-medium")}>
              Name
            </th>
            <th scope="col" className={cn(CELL, "font-medium")}>
              Description
            </th>
            <th scope="col" className={cn(CELL, "font-medium")}>
              Version
            </th>
            <th scope="col" className={cn(CELL, "font-medium")}>
              Updated
            </th>
            <th scope="col" className={CELL}>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody className={cn("transition-opacity", stale && "opacity-60")}>
          {loading
            ? Array.from({ length: SKELETON_ROWS }, (_, i) => (
                <tr key={i} aria-hidden className="h-10 border-b border-border">
                  <td className={CELL}>
                    <span className="block h-3 w-2/3 animate-pulse rounded bg-bg-muted" />
                  </td>
                  <td className={CELL}>
                    <span className="block h-3 w-4/5 animate-pulse rounded bg-bg-muted" />
                  </td>
                  <td className={CELL}>
                    <span className="block h-3 w-6 animate-pulse rounded bg-bg-muted" />
                  </td>
                  <td className={CELL}>
                    <span className="block h-3 w-16 animate-pulse rounded bg-bg-muted" />
                  </td>
                  <td className={CELL} />
                </tr>
              ))
            : skills.map((skill) => (
                <tr key={skill.id} className="h-10 border-b border-border hover:bg-bg-subtle">
                  <td className={cn(CELL, "truncate")}>
                    <Link
                      href={`/skills/${skill.id}`}
                      className="font-medium text-fg hover:underline"
                      title={skill.name}
                    >
                      {skill.name}
                    </Link>
                  </td>
                  <td className={cn(CELL, "truncate text-fg-muted")} title={skill.description ?? undefined}>
                    {skill.description ?? <span className="text-fg-subtle">—</span>}
                  </td>
                  <td className={cn(CELL, "text-fg-muted tabular-nums")}>v{skill.version}</td>
                  <td className={cn(CELL, "truncate text-fg-muted")}>
                    <RelativeTime iso={skill.updated_at} />
                  </td>
                  <td className={cn(CELL, "text-right")}>
                    {onDelete && (
                      <Button
                        size="icon"
                        variant="ghost"
                        aria-label={`Delete ${skill.name}`}
                        title="Delete"
                        onClick={() => onDelete(skill)}
                        className="text-fg-subtle hover:text-danger"
                      >
                        <Trash2 size={14} aria-hidden />
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
        </tbody>
      </table>
    </div>
  );
}
