"use client";

import { useQuery } from "@tanstack/react-query";
import { BookOpen, Plus, X } from "lucide-react";
import { useState } from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { FieldError } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { SearchInput } from "@/components/ui/search-input";
import { ApiClientError } from "@/lib/api-client/fetcher";
import { skillQueries, useCreateSkill } from "@/lib/api-client/skills";

/**
 * Attached skills, in the order their blocks land in the prompt. Already attached skills keep the
 * snapshot the agent holds (`snapshots`); newly attached ones are appended with the library content.
 */
export function SkillAttachment({
  value,
  onChange,
  snapshots,
  error,
}: {
  value: string[];
  onChange: (ids: string[]) => void;
  snapshots: Record<string, string>;
  error?: string;
}) {
  const [search, setSearch] = useState("");
  const [composing, setComposing] = useState(false);
  const library = useQuery(skillQueries.list({ limit: 200 }));
  const results = useQuery(skillQueries.list({ search: search || undefined, limit: 8 }));
  const names = new Map((library.data?.data ?? []).map((s) => [s.id, s.name]));
  for (const s of results.data?.data ?? []) names.set(s.id, s.name);
  const candidates = (results.data?.data ?? []).filter((s) => !value.includes(s.id));

  return (
    <div className="flex flex-col gap-3">
      {value.length > 0 ? (
        <ol
          aria-label="Attached skills, in prompt order"
          className="flex flex-col divide-y divide-border rounded-md border border-border"
        >
          {value.map((id, i) => (
            <li key={id} className="flex items-center gap-3 px-3 py-2">
              <span className="w-4 text-right font-mono text-[11px] text-fg-subtle">{i + 1}</span>
              <BookOpen size={14} aria-hidden className="text-fg-subtle" />
              <span className="min-w-0 flex-1 truncate">
                {names.get(id) ?? <span className="font-mono text-xs">{id}</span>}
              </span>
              {id in snapshots ? <Badge>snapshot</Badge> : <Badge tone="accent">new</Badge>}
              <Button
                variant="ghost"
                size="icon"
                aria-label={`Detach ${names.get(id) ?? id}`}
                onClick={() => onChange(value.filter((v) => v !== id))}
              >
                <X size={14} aria-hidden />
              </Button>
            </li>
          ))}
        </ol>
      ) : (
        <p className="text-xs text-fg-muted">
          No skills attached. Each attached skill is appended to the prompt as its own block.
        </p>
      )}
      <FieldError message={error} />

      <div className="flex flex-col gap-2 rounded-md border border-dashed border-border-strong p-3">
        <div className="flex items-center gap-2">
          <SearchInput
            wrapperClassName="flex-1"
            aria-label="Search the skill library"
            placeholder="Search the skill library"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <Button size="sm" onClick={() => setComposing((v) => !v)} aria-expanded={composing}>
            <Plus size={14} aria-hidden />
            Write a new skill
          </Button>
        </div>
        {candidates.length > 0 && (
          <ul aria-label="Skills you can attach" className="flex flex-col">
            {candidates.map((skill) => (
              <li key={skill.id} className="flex items-center gap-2 rounded px-1 py-1 hover:bg-bg-subtle">
                <span className="min-w-0 flex-1 truncate">
                  {skill.name}
                  {skill.description && (
                    <span className="ml-2 text-xs text-fg-muted">{skill.description}</span>
                  )}
                </span>
                <Button
                  size="sm"
                  variant="ghost"
                  aria-label={`Attach ${skill.name}`}
                  onClick={() => onChange([...value, skill.id])}
                >
                  Attach
                </Button>
              </li>
            ))}
          </ul>
        )}
        {results.data && candidates.length === 0 && (
          <p className="text-xs text-fg-muted">
            {search ? `No unattached skills match “${search}”.` : "Every skill in the library is attached."}
          </p>
        )}
        {composing && (
          <InlineSkill
            onCreated={(id) => {
              onChange([...value, id]);
              setComposing(false);
            }}
          />
        )}
      </div>
    </div>
  );
}

function InlineSkill({ onCreated }: { onCreated: (id: string) => void }) {
  const create = useCreateSkill();
  const [name, setName] = useState("");
  const [content, setContent] = useState("");
  const issues = create.error instanceof ApiClientError ? create.error.issues : [];
  const issueFor = (field: string) => issues.find((i) => i.path[0] === field)?.message;
  return (
    <div className="flex flex-col gap-2 border-t border-border pt-3">
      <p className="text-xs text-fg-muted">Saved to the skill library, then attached.</p>
      <Input
        aria-label="New skill name"
        placeholder="Name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        aria-invalid={issueFor("name") ? true : undefined}
      />
      <FieldError message={issueFor("name")} />
      <Textarea
        aria-label="New skill content (markdown)"
        placeholder="What the agent should know or do…"
        rows={5}
        className="font-mono text-xs"
        value={content}
        onChange={(e) => setContent(e.target.value)}
        aria-invalid={issueFor("content") ? true : undefined}
      />
      <FieldError
        message={issueFor("content") ?? (issues.length === 0 ? create.error?.message : undefined)}
      />
      <div>
        <Button
          size="sm"
          variant="primary"
          disabled={create.isPending}
          onClick={async () => {
            const skill = await create.mutateAsync({ name, content }).catch(() => null);
            if (skill) onCreated(skill.id);
          }}
        >
          {create.isPending ? "Saving…" : "Save and attach"}
        </Button>
      </div>
    </div>
  );
}
